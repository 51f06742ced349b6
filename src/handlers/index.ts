// The explicit list of served APIs. Adding a handler here is what makes ApiVersions list it.
import type { BrokerContext } from './context.js';
import { HandlerRegistry } from './registry.js';
import type { Handler } from './types.js';
import { metadataHandler } from './03-metadata.js';
import { apiVersionsHandler } from './18-api-versions.js';

export function buildHandlerRegistry(b: BrokerContext): HandlerRegistry {
  let registry: HandlerRegistry | undefined;
  const handlers: Handler[] = [
    metadataHandler(b),
    apiVersionsHandler(() => registry!.versions()),
  ];
  registry = new HandlerRegistry(handlers);
  return registry;
}
