// The identifier shapes accepted at the edges, in one place.

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A UUID in its text form (either case): what a uuid column accepts without an error. */
export const isUuid = (s: string): boolean => UUID.test(s);

/** A plain identifier (tenant, service, site): a letter or digit, then letters, digits and `._:-`, 128 at most. */
export const PLAIN_ID = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;
