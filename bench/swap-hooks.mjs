// Module resolution hook for `bench/serve-candidate.ts --no-auth` (registered with
// node:module's register): every import of src/auth/authorize.ts resolves to
// bench/no-authorize.ts, except the stub's own re-export of the real module.
let real = '';
let stub = '';

export function initialize(data) {
  real = data.real;
  stub = data.stub;
}

export async function resolve(specifier, context, next) {
  const resolved = await next(specifier, context);
  const url = resolved.url.split('?')[0];
  if (url === real && context.parentURL?.split('?')[0] !== stub) return { ...resolved, url: stub, shortCircuit: true };
  return resolved;
}
