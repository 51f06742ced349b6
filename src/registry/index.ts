// The schema registry: a Confluent-compatible REST API served by the broker process.
export * from './types.js';
export * from './errors.js';
export { SchemaRegistry, parseSchemaRequest, parseVersion, MAX_REFERENCE_DEPTH, type SchemaRequest, type SchemaView, type SubjectVersionView } from './service.js';
export { RegistryServer, DEFAULT_MAX_BODY_BYTES, type RegistryServerOptions } from './http.js';
export { checkCompatibility } from './compatibility.js';
export { formatOf, type ParsedSchema, type SchemaFormat } from './formats/index.js';
