import { createRequire } from 'node:module';
import type AjvCompiler from '@fastify/ajv-compiler';
import type * as FjsCompiler from '@fastify/fast-json-stringify-compiler';
import type { SerializerFactory } from '@fastify/fast-json-stringify-compiler';
import type { FastifyServerOptions } from 'fastify';

type SchemaController = NonNullable<FastifyServerOptions['schemaController']>;
type Compile = (data: unknown, context?: unknown) => unknown;

/**
 * Fastify's own schema compilers (Ajv for request parts, fast-json-stringify for responses), each compiling a
 * route's schema on the route's first request instead of at start. Compiling them all at start took about 0.3 s of
 * the 0.5 s from buildApp to listening (measured with `node --cpu-prof`), and issue #15 asks for `npm start` in
 * about a second; a request path that is never used is never compiled. The functions that run are the ones Fastify
 * would have built, so validation and serialization are unchanged; a schema Ajv or fast-json-stringify refuses now
 * fails that route's first request (every route's schemas are exercised by the test suite) instead of the start.
 */
export function lazySchemaCompilers(): SchemaController {
  // The compiler packages are loaded, and their Ajv instance built, on the first compile too (issue #20): Fastify
  // asks for each plugin context's compiler as its routes are registered, and Ajv's constructor compiles its
  // meta-schemas there; about 40 ms of every start and the modules' memory, in a process that may never validate.
  const require = createRequire(import.meta.url);
  let validatorPool: ReturnType<typeof AjvCompiler> | undefined;
  let serializerPool: SerializerFactory | undefined;
  const ajvCompiler = () => (validatorPool ??= (require('@fastify/ajv-compiler') as typeof AjvCompiler)());
  const fjsCompiler = () =>
    (serializerPool ??= (require('@fastify/fast-json-stringify-compiler') as typeof FjsCompiler).SerializerSelector());

  const validators: AjvCompiler.BuildCompilerFromPool = (externalSchemas, options) => {
    let compile: ReturnType<AjvCompiler.BuildCompilerFromPool> | undefined;
    const compiler = () => (compile ??= ajvCompiler()(externalSchemas, options));
    return (route) => {
      let fn: (Compile & { errors?: unknown; schemaEnv?: unknown }) | undefined;
      const get = () => (fn ??= compiler()(route) as unknown as Compile);
      const lazy = Object.defineProperties(
        (data: unknown, context?: unknown) => {
          const validate = get();
          const result = context === undefined ? validate(data) : validate(data, context);
          lazy.errors = fn!.errors;
          return result;
        },
        // Fastify passes Ajv's root parent (so a root value can be coerced) when the function has a schemaEnv.
        { schemaEnv: { get: () => get() && fn!.schemaEnv, enumerable: true } },
      ) as Compile & { errors?: unknown };
      return lazy as unknown as ReturnType<ReturnType<AjvCompiler.BuildCompilerFromPool>>;
    };
  };
  const serializers: SerializerFactory = (externalSchemas, options) => {
    let compile: ReturnType<SerializerFactory> | undefined;
    const compiler = () => (compile ??= fjsCompiler()(externalSchemas, options));
    return (route) => {
      let fn: ((doc: unknown) => string) | undefined;
      return (doc: unknown) => (fn ??= compiler()(route))(doc);
    };
  };
  return { compilersFactory: { buildValidator: validators, buildSerializer: serializers } };
}
