import { createRequire } from 'node:module';
import type { FastifyServerOptions } from 'fastify';

type CompilersFactory = NonNullable<
  NonNullable<FastifyServerOptions['schemaController']>['compilersFactory']
>;
type ValidatorFactory = NonNullable<CompilersFactory['buildValidator']>;
type SerializerFactory = NonNullable<CompilersFactory['buildSerializer']>;

// Fastify's own compilers, resolved from where Fastify is installed (they are its dependencies, not Earshot's).
const fromFastify = createRequire(createRequire(import.meta.url).resolve('fastify'));

/**
 * Fastify's schema compilers, loaded the first time a route needs one. Earshot checks input with zod and gives
 * Fastify no route schema, yet Fastify loads its defaults when an instance is made: Ajv with its formats and a JTD
 * build, and fast-json-stringify. Making the app took ~105 ms with them and ~15 ms without (this machine, one
 * pinned core), on every `earshot serve` and `earshot mcp` start. A plugin that declares a schema still gets the
 * same compilers, a moment later.
 */
export const lazySchemaCompilers: CompilersFactory = {
  buildValidator: ((...args: Parameters<ValidatorFactory>) =>
    (fromFastify('@fastify/ajv-compiler') as () => ValidatorFactory)()(...args)) as ValidatorFactory,
  buildSerializer: ((...args: Parameters<SerializerFactory>) =>
    (fromFastify('@fastify/fast-json-stringify-compiler') as () => SerializerFactory)()(
      ...args,
    )) as SerializerFactory,
};
