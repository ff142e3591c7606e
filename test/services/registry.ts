/**
 * ServiceName → ServiceDefinition, by lazy dynamic import of test/services/<name>.ts.
 * Only the requested definition is loaded, so a missing or broken definition file
 * only affects the tests that ask for that service.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { ServiceDefinition, ServiceName } from './types.js';

export const SERVICE_NAMES: readonly ServiceName[] = ['kafka', 'opensearch', 'spark', 'chroma', 'moto'];

export function isServiceName(value: string): value is ServiceName {
  return (SERVICE_NAMES as readonly string[]).includes(value);
}

export function assertServiceNames(values: readonly string[]): ServiceName[] {
  const unknown = values.filter((v) => !isServiceName(v));
  if (unknown.length > 0) {
    throw new Error(`unknown service(s): ${unknown.join(', ')} (known: ${SERVICE_NAMES.join(', ')})`);
  }
  return [...values] as ServiceName[];
}

const loaded = new Map<ServiceName, Promise<ServiceDefinition>>();

/** Definitions registered in-process (harness self-tests); they take precedence over files. */
const overrides = new Map<string, ServiceDefinition>();

/** For the harness's own tests: use `definition` instead of test/services/<name>.ts. */
export function registerServiceForTesting(definition: ServiceDefinition): () => void {
  overrides.set(definition.name, definition);
  return () => {
    overrides.delete(definition.name);
  };
}

export function definitionFile(name: ServiceName): string {
  return fileURLToPath(new URL(`./${name}.ts`, import.meta.url));
}

export function loadService(name: ServiceName): Promise<ServiceDefinition> {
  const override = overrides.get(name);
  if (override) return Promise.resolve(override);
  if (!isServiceName(name)) return Promise.reject(new Error(`unknown service: ${String(name)}`));
  let pending = loaded.get(name);
  if (!pending) {
    pending = importDefinition(name);
    loaded.set(name, pending);
    // A failed import is not cached: the file may appear later in a long-lived process.
    pending.catch(() => loaded.delete(name));
  }
  return pending;
}

async function importDefinition(name: ServiceName): Promise<ServiceDefinition> {
  const file = definitionFile(name);
  if (!existsSync(file)) {
    throw new Error(`service '${name}' has no definition yet (${file} does not exist)`);
  }
  // A computed specifier keeps tsc from requiring files that other people are still writing.
  const specifier = new URL(`./${name}.ts`, import.meta.url).href;
  const mod = (await import(specifier)) as { service?: ServiceDefinition };
  const definition = mod.service;
  if (!definition || typeof definition.start !== 'function' || typeof definition.provision !== 'function') {
    throw new Error(`${file} must export 'service: ServiceDefinition'`);
  }
  if (definition.name !== name) {
    throw new Error(`${file} exports service named '${definition.name}', expected '${name}'`);
  }
  return definition;
}
