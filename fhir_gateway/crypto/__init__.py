"""Field encryption (AES-256-GCM under versioned keys) and blind indexes for PHI at rest."""
