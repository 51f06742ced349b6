// Errors the registry's REST API returns, with Confluent's HTTP status and error_code.

export class RegistryError extends Error {
  constructor(
    readonly status: number,
    readonly errorCode: number,
    message: string,
  ) {
    super(message);
    this.name = 'RegistryError';
  }

  toBody(): { error_code: number; message: string } {
    return { error_code: this.errorCode, message: this.message };
  }
}

export const subjectNotFound = (subject: string) => new RegistryError(404, 40401, `Subject '${subject}' not found.`);
export const versionNotFound = (subject: string, version: number | string) =>
  new RegistryError(404, 40402, `Version ${version} not found for subject '${subject}'.`);
export const schemaNotFound = (what = 'Schema not found') => new RegistryError(404, 40403, what);
export const subjectSoftDeleted = (subject: string) =>
  new RegistryError(404, 40404, `Subject '${subject}' was soft deleted. Set permanent=true to delete permanently`);
export const subjectNotSoftDeleted = (subject: string) =>
  new RegistryError(404, 40405, `Subject '${subject}' was not deleted first before being permanently deleted`);
export const versionSoftDeleted = (subject: string, version: number) =>
  new RegistryError(404, 40406, `Subject '${subject}' Version ${version} was soft deleted. Set permanent=true to delete permanently`);
export const versionNotSoftDeleted = (subject: string, version: number) =>
  new RegistryError(404, 40407, `Subject '${subject}' Version ${version} was not deleted first before being permanently deleted`);
export const subjectConfigNotFound = (subject: string) =>
  new RegistryError(404, 40408, `Subject '${subject}' does not have subject-level compatibility configured`);
export const subjectModeNotFound = (subject: string) =>
  new RegistryError(404, 40409, `Subject '${subject}' does not have subject-level mode configured`);
export const incompatibleSchema = (message: string) => new RegistryError(409, 409, message);
export const invalidSchema = (message: string) => new RegistryError(422, 42201, `Invalid schema: ${message}`);
export const invalidVersion = (version: string) =>
  new RegistryError(422, 42202, `The specified version '${version}' is not a valid version id. Allowed values are between [1, 2^31-1] and the string "latest"`);
export const invalidCompatibilityLevel = (level: unknown) =>
  new RegistryError(
    422,
    42203,
    `Invalid compatibility level. Valid values are none, backward, forward, full, backward_transitive, forward_transitive, and full_transitive; got ${JSON.stringify(level)}`,
  );
export const invalidMode = (mode: unknown) =>
  new RegistryError(422, 42204, `Invalid mode. Valid values are READWRITE, READONLY and IMPORT; got ${JSON.stringify(mode)}`);
export const operationNotPermitted = (message: string) => new RegistryError(422, 42205, message);
/** Confluent's 42206: a version another schema references stays until that schema is permanently deleted. */
export const referenceExists = (subject: string, version: number) =>
  new RegistryError(422, 42206, `One or more references exist to the schema {magic=1,keytype=SCHEMA,subject=${subject},version=${version}}.`);
export const storeError = (message: string) => new RegistryError(500, 50001, `Error in the backend data store: ${message}`);
