import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from '../../src/config.js';

describe('#parseConfig', () => {
  it('applies the documented defaults', () => {
    const c = parseConfig({});
    expect(c).toMatchObject({ PORT: 4001, DATA_DIR: './.data', MAX_DEPTH: 10, MAX_ALIASES: 15, NODE_ENV: 'development' });
    expect(c.DATABASE_URL).toBeUndefined();
  });

  it('treats empty strings as unset', () => {
    expect(parseConfig({ DATABASE_URL: '', PORT: '' }).PORT).toBe(4001);
  });

  describe('when several variables are wrong', () => {
    it('lists every problem at once', () => {
      try {
        parseConfig({ PORT: 'abc', DATABASE_URL: 'not a url', AUTH_JWT_SECRET: 'short', NODE_ENV: 'staging' });
        expect.unreachable();
      } catch (err) {
        expect(err).toBeInstanceOf(ConfigError);
        const problems = (err as ConfigError).problems.join('\n');
        for (const name of ['PORT', 'DATABASE_URL', 'AUTH_JWT_SECRET', 'NODE_ENV']) expect(problems).toContain(name);
      }
    });
  });

  it('refuses a secret and a JWKS together', () => {
    expect(() => parseConfig({ AUTH_JWT_SECRET: 'x'.repeat(40), AUTH_JWKS_URL: 'https://idp.test/jwks' })).toThrow(/not both/);
  });
});
