// Module resolution hook for bench/serve-candidate.ts's variants (registered with node:module's
// register): every import of `real` resolves to `stub`, except the stub's own re-export of the
// real module. --no-auth swaps src/auth/authorize.ts, --shadow src/evolution/repo.ts.
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
