-- The ledger as a tiled transparency log (design: docs/ledger.md). Tiles hold the Merkle tree
-- nodes at heights 0, 8, 16, … as in C2SP tlog-tiles: tile (level L, index N) is the
-- concatenation of up to 256 32-byte hashes of the complete subtrees of height 8·L numbered
-- 256·N … 256·N+255; the rightmost tile of a level is partial and grows with each append.
CREATE TABLE "ledger_tile" (
	"level" smallint NOT NULL,
	"idx" bigint NOT NULL,
	"hashes" bytea NOT NULL,
	CONSTRAINT "ledger_tile_pk" PRIMARY KEY("level","idx"),
	CONSTRAINT "ledger_tile_width" CHECK (octet_length("hashes") BETWEEN 32 AND 8192 AND octet_length("hashes") % 32 = 0)
);
--> statement-breakpoint
-- How many entries the tiles cover; equal to seq after every append (the same transaction writes both).
ALTER TABLE "ledger_head" ADD COLUMN "tiled_size" bigint DEFAULT 0 NOT NULL;
--> statement-breakpoint
-- Signed checkpoints (C2SP tlog-checkpoint in a C2SP signed note), one per published tree size.
CREATE TABLE "ledger_checkpoint" (
	"tree_size" bigint PRIMARY KEY NOT NULL,
	"root_hash" text NOT NULL,
	"origin" text NOT NULL,
	"note" text NOT NULL,
	"created_at" timestamp (3) with time zone NOT NULL
);
--> statement-breakpoint
-- Where incremental verification stands (a single row): the chain is verified up to
-- verified_size (whose entry hash and tree root are kept to detect a later rewrite), older
-- entries are re-scanned in rotation from rescan_from; a fault found stays until a check passes.
CREATE TABLE "ledger_verification" (
	"id" bigint PRIMARY KEY NOT NULL,
	"verified_size" bigint NOT NULL,
	"verified_hash" text NOT NULL,
	"verified_root" text NOT NULL,
	"rescan_from" bigint NOT NULL,
	"fault" text,
	"first_bad_seq" bigint,
	"checked_at" timestamp (3) with time zone,
	CONSTRAINT "ledger_verification_singleton" CHECK ("id" = 1)
);
--> statement-breakpoint
INSERT INTO "ledger_verification" ("id", "verified_size", "verified_hash", "verified_root", "rescan_from")
VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000', 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855', 1);
--> statement-breakpoint
-- RFC 6962 root of one full tile (256 hashes): eight rounds of SHA-256(0x01 || left || right).
CREATE FUNCTION ledger_tile_root(h bytea) RETURNS bytea LANGUAGE plpgsql IMMUTABLE STRICT AS $$
DECLARE
  w int := octet_length(h) / 32;
  nxt bytea;
  i int;
BEGIN
  IF w <> 256 THEN
    RAISE EXCEPTION 'ledger_tile_root: a full tile has 256 hashes, not %', w;
  END IF;
  WHILE w > 1 LOOP
    nxt := ''::bytea;
    FOR i IN 0 .. w / 2 - 1 LOOP
      nxt := nxt || sha256('\x01'::bytea || substring(h FROM i * 64 + 1 FOR 64));
    END LOOP;
    h := nxt;
    w := w / 2;
  END LOOP;
  RETURN h;
END;
$$;
--> statement-breakpoint
-- Brings the tiles up to the chain head, set-based: used to backfill the existing ledger here, at
-- every start, and by bench/scale-ledger.ts. Partial tiles are dropped and rebuilt, full tiles
-- are immutable. Appends are locked out meanwhile (the head row). Returns the tiled size.
CREATE FUNCTION ledger_tiles_extend() RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
  head_seq bigint;
  tiled bigint;
  full_below bigint;
  lvl int := 0;
  n_rows bigint;
BEGIN
  SELECT seq, tiled_size INTO head_seq, tiled FROM ledger_head WHERE id = 1 FOR UPDATE;
  IF tiled = head_seq THEN
    RETURN tiled;
  END IF;
  DELETE FROM ledger_tile WHERE octet_length(hashes) < 8192;
  full_below := coalesce((SELECT (max(idx) + 1) * 256 FROM ledger_tile WHERE level = 0), 0);
  SELECT count(*) INTO n_rows FROM ledger WHERE seq > full_below AND seq <= head_seq;
  IF n_rows <> head_seq - full_below THEN
    RAISE EXCEPTION 'ledger_tiles_extend: entries % to % are not contiguous', full_below + 1, head_seq;
  END IF;
  INSERT INTO ledger_tile (level, idx, hashes)
  SELECT 0, (seq - 1) / 256, string_agg(sha256('\x00'::bytea || decode(hash, 'hex')), ''::bytea ORDER BY seq)
  FROM ledger WHERE seq > full_below AND seq <= head_seq
  GROUP BY (seq - 1) / 256;
  LOOP
    -- Level lvl+1 gains the roots of level lvl's full tiles it does not hold yet.
    full_below := coalesce((SELECT (max(idx) + 1) * 256 FROM ledger_tile WHERE level = lvl + 1), 0);
    INSERT INTO ledger_tile (level, idx, hashes)
    SELECT lvl + 1, idx / 256, string_agg(ledger_tile_root(hashes), ''::bytea ORDER BY idx)
    FROM ledger_tile WHERE level = lvl AND octet_length(hashes) = 8192 AND idx >= full_below
    GROUP BY idx / 256;
    EXIT WHEN NOT EXISTS (SELECT 1 FROM ledger_tile WHERE level = lvl + 1 AND octet_length(hashes) = 8192);
    lvl := lvl + 1;
  END LOOP;
  UPDATE ledger_head SET tiled_size = head_seq WHERE id = 1;
  RETURN head_seq;
END;
$$;
--> statement-breakpoint
SELECT ledger_tiles_extend();
