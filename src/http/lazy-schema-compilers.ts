import AjvCompiler from '@fastify/ajv-compiler';
import { SerializerSelector, type SerializerFactory } from '@fastify/fast-json-stringify-compiler';
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
  const buildValidator = AjvCompiler();
  const buildSerializer = SerializerSelector();
  const validators: AjvCompiler.BuildCompilerFromPool = (externalSchemas, options) => {
    const compile = buildValidator(externalSchemas, options);
    return (route) => {
      let fn: (Compile & { errors?: unknown; schemaEnv?: unknown }) | undefined;
      const get = () => (fn ??= compile(route) as unknown as Compile);
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
      return lazy as unknown as ReturnType<ReturnType<typeof buildValidator>>;
    };
  };
  const serializers: SerializerFactory = (externalSchemas, options) => {
    const compile = buildSerializer(externalSchemas, options);
    return (route) => {
      let fn: ((doc: unknown) => string) | undefined;
      return (doc: unknown) => (fn ??= compile(route))(doc);
    };
  };
  return { compilersFactory: { buildValidator: validators, buildSerializer: serializers } };
}
