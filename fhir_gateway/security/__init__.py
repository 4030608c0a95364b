"""Bearer JWT verification, SMART v2 scopes and the role matrix."""
