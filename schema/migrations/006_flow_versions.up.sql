-- The event flows get a second partition level, by data version, so that an
-- import publishes by attaching the tables it loaded instead of rewriting
-- their rows (docs/flows.md, "How an import publishes"):
--
--   pharmacy                HASH (person_id), partitions created by
--   └─ pharmacy_p3          schema.EnsurePartitions, each LIST (data_version)
--      ├─ pharmacy_p3_v7    one leaf per import, attached at its publish
--      └─ pharmacy_p3_vdefault  rows inserted outside the import path
--
-- The registry (person, enrolment: updated in place or read whole) and the
-- areas keep one level. A primary key of a partitioned table must include
-- the partition columns, so the keys gain data_version; the import still
-- refuses a natural key (discharge_id, access_id, cedap_id) that is already
-- published, with an explicit check.
--
-- Databases partitioned before this migration keep their rows: each hash
-- partition is detached, renamed to its DEFAULT leaf, and attached under a
-- new list-partitioned hash partition of the same bounds.

ALTER SEQUENCE flow_event_seq CACHE 100;

DO $$
DECLARE
    t    text;
    pk   text;
    part record;
BEGIN
    FOREACH t IN ARRAY ARRAY['sdo', 'sdo_diagnosis', 'sdo_procedure', 'pharmacy', 'direct_distribution',
                             'exemption', 'er', 'er_diagnosis', 'outpatient', 'cedap'] LOOP
        SELECT pg_get_constraintdef(oid) INTO pk FROM pg_constraint
            WHERE conrelid = t::regclass AND contype = 'p';
        EXECUTE format('ALTER TABLE %I DROP CONSTRAINT %I', t, t || '_pkey');
        EXECUTE format('ALTER TABLE %I ADD CONSTRAINT %I %s', t, t || '_pkey',
                       replace(pk, ')', ', data_version)'));
        FOR part IN
            SELECT c.relname, pg_get_expr(c.relpartbound, c.oid) AS bound
            FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
            WHERE i.inhparent = t::regclass AND c.relkind = 'r'
            ORDER BY c.relname
        LOOP
            EXECUTE format('ALTER TABLE %I DETACH PARTITION %I', t, part.relname);
            EXECUTE format('ALTER TABLE %I RENAME TO %I', part.relname, part.relname || '_vdefault');
            EXECUTE format('CREATE TABLE %I PARTITION OF %I %s PARTITION BY LIST (data_version)',
                           part.relname, t, part.bound);
            EXECUTE format('ALTER TABLE %I ATTACH PARTITION %I DEFAULT', part.relname, part.relname || '_vdefault');
        END LOOP;
    END LOOP;
END
$$;
