-- plan for schema study_golden, 2 partitions, data version 7; partition 0 shown

-- step ev_ami_p0 (event)
-- $1 = 7
-- $2 = 7
-- $3 = []string{"410%"}
SET LOCAL jit = off;
CREATE TABLE "study_golden"."ev_ami_p0" (
person_id bigint NOT NULL,
record_id text NOT NULL,
start_date date NOT NULL,
end_date date,
ddd double precision,
daily_ddd double precision,
PRIMARY KEY (person_id, record_id)
);
INSERT INTO "study_golden"."ev_ami_p0"
(person_id, record_id, start_date, end_date, ddd, daily_ddd)
SELECT s.person_id, s.discharge_id, s.admission_date, s.discharge_date, NULL::double precision, NULL::double precision
FROM "sdo_p0" s
WHERE s.data_version <= $1::bigint
  AND EXISTS (SELECT 1 FROM "sdo_diagnosis_p0" d
              WHERE d.person_id = s.person_id AND d.discharge_id = s.discharge_id
                AND d.data_version <= $2::bigint
                AND d.position = 0
                AND ((d.code LIKE ANY($3::text[])) AND (NOT EXISTS (SELECT 1 FROM "dict_icd9cm" WHERE kind = 'dx') OR EXISTS (SELECT 1 FROM "dict_icd9cm" v WHERE v.kind = 'dx' AND v.code = d.code AND v.valid_from <= s.admission_date AND (v.valid_to IS NULL OR s.admission_date <= v.valid_to)))));

-- step ev_pci_p0 (event)
-- $1 = 7
-- $2 = 7
-- $3 = []string{"3606"}
SET LOCAL jit = off;
CREATE TABLE "study_golden"."ev_pci_p0" (
person_id bigint NOT NULL,
record_id text NOT NULL,
start_date date NOT NULL,
end_date date,
ddd double precision,
daily_ddd double precision,
PRIMARY KEY (person_id, record_id)
);
INSERT INTO "study_golden"."ev_pci_p0"
(person_id, record_id, start_date, end_date, ddd, daily_ddd)
SELECT s.person_id, s.discharge_id, s.admission_date, s.discharge_date, NULL::double precision, NULL::double precision
FROM "sdo_p0" s
WHERE s.data_version <= $1::bigint
  AND EXISTS (SELECT 1 FROM "sdo_procedure_p0" d
              WHERE d.person_id = s.person_id AND d.discharge_id = s.discharge_id
                AND d.data_version <= $2::bigint
                AND ((d.code = ANY($3::text[])) AND (NOT EXISTS (SELECT 1 FROM "dict_icd9cm" WHERE kind = 'proc') OR EXISTS (SELECT 1 FROM "dict_icd9cm" v WHERE v.kind = 'proc' AND v.code = d.code AND v.valid_from <= s.admission_date AND (v.valid_to IS NULL OR s.admission_date <= v.valid_to)))));

-- step ev_statin_p0 (event)
-- $1 = 7
-- $2 = 7
-- $3 = []string{"C10AA%"}
-- $4 = 7
-- $5 = 7
-- $6 = []string{"C10AA%"}
SET LOCAL jit = off;
CREATE TABLE "study_golden"."ev_statin_p0" (
person_id bigint NOT NULL,
record_id text NOT NULL,
start_date date NOT NULL,
end_date date,
ddd double precision,
daily_ddd double precision,
PRIMARY KEY (person_id, record_id)
);
INSERT INTO "study_golden"."ev_statin_p0"
(person_id, record_id, start_date, end_date, ddd, daily_ddd)
(SELECT DISTINCT ON (x.person_id, x.event_id)
       x.person_id, 'P' || x.event_id, x.dispensing_date, x.dispensing_date,
       x.packs * coalesce(v.ddd_per_pack, 1),
       NULL::double precision
FROM "pharmacy_p0" x
LEFT JOIN "dict_product" v ON v.aic = x.aic AND v.data_version <= $1::bigint
WHERE x.data_version <= $2::bigint
  AND ((x.atc LIKE ANY($3::text[])))
ORDER BY x.person_id, x.event_id, (v.valid_from <= x.dispensing_date AND (v.valid_to IS NULL OR x.dispensing_date <= v.valid_to)) DESC, v.valid_from DESC)
UNION ALL
(SELECT DISTINCT ON (x.person_id, x.event_id)
       x.person_id, 'D' || x.event_id, x.dispensing_date, x.dispensing_date,
       x.packs * coalesce(v.ddd_per_pack, 1),
       NULL::double precision
FROM "direct_distribution_p0" x
LEFT JOIN "dict_product" v ON v.aic = x.aic AND v.data_version <= $4::bigint
WHERE x.data_version <= $5::bigint
  AND ((x.atc LIKE ANY($6::text[])))
ORDER BY x.person_id, x.event_id, (v.valid_from <= x.dispensing_date AND (v.valid_to IS NULL OR x.dispensing_date <= v.valid_to)) DESC, v.valid_from DESC);

-- step ev_diab_p0 (event)
-- $1 = 7
-- $2 = []string{"013"}
SET LOCAL jit = off;
CREATE TABLE "study_golden"."ev_diab_p0" (
person_id bigint NOT NULL,
record_id text NOT NULL,
start_date date NOT NULL,
end_date date,
ddd double precision,
daily_ddd double precision,
PRIMARY KEY (person_id, record_id)
);
INSERT INTO "study_golden"."ev_diab_p0"
(person_id, record_id, start_date, end_date, ddd, daily_ddd)
SELECT x.person_id, x.event_id::text, x.start_date, x.end_date, NULL::double precision, NULL::double precision
FROM "exemption_p0" x
WHERE x.data_version <= $1::bigint
  AND ((x.code = ANY($2::text[])) AND (NOT EXISTS (SELECT 1 FROM "dict_exemption" WHERE true) OR EXISTS (SELECT 1 FROM "dict_exemption" v WHERE v.code = x.code AND v.valid_from <= x.start_date AND (v.valid_to IS NULL OR x.start_date <= v.valid_to))));

-- step spells_p0 (spells)
-- $1 = 7
-- $2 = 0
SET LOCAL jit = off;
CREATE TABLE "study_golden"."spells_p0" (
person_id bigint NOT NULL,
spell_no integer NOT NULL,
start_date date NOT NULL,
end_date date,
PRIMARY KEY (person_id, spell_no)
);
INSERT INTO "study_golden"."spells_p0"
(person_id, spell_no, start_date, end_date)
WITH e AS (
  SELECT x.person_id, x.start_date, coalesce(x.end_date, 'infinity'::date) AS end_date
  FROM "enrolment_p0" x
  WHERE x.data_version <= $1::bigint
), m AS (
  SELECT e.*, max(e.end_date) OVER (PARTITION BY e.person_id ORDER BY e.start_date, e.end_date
                                    ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS prev_end
  FROM e
), g AS (
  SELECT m.*, sum(CASE WHEN m.prev_end IS NOT NULL AND m.start_date <= m.prev_end + $2::integer + 1 THEN 0 ELSE 1 END)
                OVER (PARTITION BY m.person_id ORDER BY m.start_date, m.end_date ROWS UNBOUNDED PRECEDING) AS spell_no
  FROM m
)
SELECT g.person_id, g.spell_no, min(g.start_date), nullif(max(g.end_date), 'infinity'::date)
FROM g
GROUP BY g.person_id, g.spell_no;

-- step candidates_p0 (index) after spells_p0
-- $1 = "2015-07-01"
-- $2 = "2015-07-01"
-- $3 = 7
-- $4 = 0
-- $5 = 0
-- $6 = 2
-- $7 = 7
SET LOCAL jit = off;
CREATE TABLE "study_golden"."candidates_p0" (
person_id bigint NOT NULL,
day date NOT NULL,
day_end date,
gmin text,
gmax text,
passed integer NOT NULL,
PRIMARY KEY (person_id, day)
);
INSERT INTO "study_golden"."candidates_p0"
(person_id, day, day_end, gmin, gmax, passed)
WITH occ AS (
  SELECT x.person_id, $1::date AS start_date, $2::date AS end_date, NULL::text AS grp, 0 AS ev
  FROM "person_p0" x
  WHERE x.data_version <= $3::bigint
), q AS MATERIALIZED (
  SELECT o.person_id, o.start_date, o.end_date, o.grp,
         CASE WHEN ((p.death_date IS NULL OR p.death_date >= o.start_date)) IS NOT TRUE THEN 0
              WHEN (sp.start_date <= o.start_date - $4::integer AND (sp.end_date IS NULL OR sp.end_date >= o.start_date + $5::integer)) IS NOT TRUE THEN 1 ELSE 2 END AS passed
  FROM (SELECT o.*, 0 AS prior FROM occ o) o
  JOIN "person_p0" p ON p.person_id = o.person_id AND p.data_version <= $7::bigint
  LEFT JOIN "study_golden"."spells_p0" sp ON sp.person_id = o.person_id AND sp.start_date <= o.start_date AND (sp.end_date IS NULL OR sp.end_date >= o.start_date)
)
SELECT q.person_id, q.start_date,
       CASE WHEN bool_or(q.end_date IS NULL) FILTER (WHERE q.passed = $6::integer) THEN NULL
            ELSE max(q.end_date) FILTER (WHERE q.passed = $6::integer) END,
       min(q.grp), max(q.grp), max(q.passed)
FROM q
GROUP BY q.person_id, q.start_date;

-- step index_p0 (index) after candidates_p0
-- $1 = 2
SET LOCAL jit = off;
CREATE TABLE "study_golden"."index_p0" (
person_id bigint NOT NULL,
entry_no integer NOT NULL,
index_date date NOT NULL,
index_end date,
index_group text,
two_groups boolean NOT NULL,
PRIMARY KEY (person_id, entry_no)
);
INSERT INTO "study_golden"."index_p0"
(person_id, entry_no, index_date, index_end, index_group, two_groups)
SELECT d.person_id, row_number() OVER (PARTITION BY d.person_id ORDER BY d.day),
       d.day, d.day_end,
       CASE WHEN d.gmin = d.gmax THEN d.gmin END, coalesce(d.gmin <> d.gmax, false)
FROM (SELECT DISTINCT ON (d.person_id) d.* FROM "study_golden"."candidates_p0" d WHERE d.passed = $1::integer ORDER BY d.person_id, d.day) d;

-- step criteria_p0 (criteria) after index_p0, spells_p0, ev_ami_p0, ev_statin_p0, ev_diab_p0, ev_pci_p0
-- $1 = -365
-- $2 = -1
-- $3 = 0
-- $4 = -365
-- $5 = 0
-- $6 = 2
-- $7 = 0
-- $8 = 0
-- $9 = 1
-- $10 = -365
-- $11 = -1
-- $12 = 0
-- $13 = 30
-- $14 = 1
-- $15 = -365
-- $16 = -1
-- $17 = 180
-- $18 = "F"
-- $19 = 7
-- $20 = 65
-- $21 = 7
-- $22 = -1
-- $23 = 1
-- $24 = 2
SET LOCAL jit = off;
CREATE TABLE "study_golden"."criteria_p0" (
person_id bigint NOT NULL,
entry_no integer NOT NULL,
c1 boolean NOT NULL,
c2 boolean NOT NULL,
c3 boolean NOT NULL,
c4 boolean NOT NULL,
c5 boolean NOT NULL,
c6 boolean NOT NULL,
PRIMARY KEY (person_id, entry_no)
);
INSERT INTO "study_golden"."criteria_p0"
(person_id, entry_no, c1, c2, c3, c4, c5, c6)
SELECT i.person_id,
       i.entry_no,
       coalesce(((SELECT count(*) FROM "study_golden"."ev_ami_p0" o
   WHERE o.person_id = i.person_id AND o.start_date >= i.index_date + $1::integer AND o.start_date <= i.index_date + $2::integer) <= $3::integer), false),
       coalesce(((SELECT count(DISTINCT o.start_date) FROM "study_golden"."ev_statin_p0" o
   WHERE o.person_id = i.person_id AND o.start_date >= i.index_date + $4::integer AND o.start_date <= i.index_date + $5::integer) >= $6::integer), false),
       coalesce(((SELECT count(*) FROM "study_golden"."ev_diab_p0" o
   WHERE o.person_id = i.person_id AND o.start_date <= i.index_date + $8::integer AND coalesce(o.end_date, 'infinity'::date) >= i.index_date + $7::integer) >= $9::integer), false),
       coalesce(((SELECT count(*) FROM "study_golden"."ev_ami_p0" o
   WHERE o.person_id = i.person_id AND o.start_date >= i.index_date + $10::integer AND o.start_date <= i.index_date + $11::integer AND EXISTS (SELECT 1 FROM "study_golden"."ev_pci_p0" o2 WHERE o2.person_id = o.person_id AND o2.start_date >= o.start_date + $12::integer AND o2.start_date <= o.start_date + $13::integer)) >= $14::integer), false),
       coalesce(((SELECT max(g.next - g.d - 1) FROM (
     SELECT x.d, lead(x.d, 1, (least(i.index_date + $16::integer, '9999-12-31'::date)) + 1) OVER (ORDER BY x.d) AS next
     FROM (SELECT (i.index_date + $15::integer) - 1 AS d
           UNION SELECT o.start_date FROM "study_golden"."ev_statin_p0" o
                 WHERE o.person_id = i.person_id AND o.start_date >= i.index_date + $15::integer AND o.start_date <= least(i.index_date + $16::integer, '9999-12-31'::date)) x) g) >= $17::integer), false),
       coalesce((((coalesce(EXISTS (SELECT 1 FROM "person_p0" p WHERE p.person_id = i.person_id AND p.data_version <= $19::bigint AND p.sex = $18::text), false))::int + (coalesce(EXISTS (SELECT 1 FROM "person_p0" p WHERE p.person_id = i.person_id AND p.data_version <= $21::bigint AND extract(year FROM age(i.index_date, p.birth_date)) >= $20::integer), false))::int + (coalesce(((SELECT count(*) FROM "study_golden"."ev_statin_p0" o
   WHERE o.person_id = i.person_id AND o.start_date <= i.index_date + $22::integer) >= $23::integer), false))::int) >= $24::integer), false)
FROM "study_golden"."index_p0" i;

-- step cohort_p0 (cohort) after index_p0, criteria_p0
SET LOCAL jit = off;
CREATE TABLE "study_golden"."cohort_p0" (
person_id bigint NOT NULL,
entry_no integer NOT NULL,
index_date date NOT NULL,
index_end date,
index_group text,
PRIMARY KEY (person_id, entry_no)
);
INSERT INTO "study_golden"."cohort_p0"
(person_id, entry_no, index_date, index_end, index_group)
SELECT i.person_id, i.entry_no, i.index_date, i.index_end, i.index_group
FROM "study_golden"."index_p0" i
JOIN "study_golden"."criteria_p0" k ON k.person_id = i.person_id AND k.entry_no = i.entry_no
WHERE NOT i.two_groups AND k.c1 AND k.c2 AND k.c3 AND k.c4 AND k.c5 AND k.c6;

-- step attrition_p0 (attrition) after candidates_p0, index_p0, criteria_p0
-- $1 = "persons in the registry"
-- $2 = "alive on day 0"
-- $3 = "enrolled on day 0"
-- $4 = "c1"
-- $5 = "c2"
-- $6 = "c3"
-- $7 = "c4"
-- $8 = "c5"
-- $9 = "c6"
SET LOCAL jit = off;
CREATE TABLE "study_golden"."attrition_p0" (
line integer NOT NULL,
label text NOT NULL,
persons bigint NOT NULL,
entries bigint NOT NULL,
PRIMARY KEY (line)
);
INSERT INTO "study_golden"."attrition_p0"
(line, label, persons, entries)
WITH pd AS MATERIALIZED (
  SELECT d.passed, count(*) AS n FROM "study_golden"."candidates_p0" d GROUP BY d.passed
), pp AS MATERIALIZED (
  SELECT m.passed, count(*) AS n
  FROM (SELECT d.person_id, max(d.passed) AS passed FROM "study_golden"."candidates_p0" d GROUP BY d.person_id) m
  GROUP BY m.passed
), t AS MATERIALIZED (
  SELECT sum(x.e0) AS e0, sum(x.p0) AS p0, sum(x.e1) AS e1, sum(x.p1) AS p1, sum(x.e2) AS e2, sum(x.p2) AS p2, sum(x.e3) AS e3, sum(x.p3) AS p3, sum(x.e4) AS e4, sum(x.p4) AS p4, sum(x.e5) AS e5, sum(x.p5) AS p5
  FROM (SELECT i.person_id, count(*) FILTER (WHERE true AND k.c1) AS e0, (bool_or(true AND k.c1) IS TRUE)::integer AS p0,
               count(*) FILTER (WHERE true AND k.c1 AND k.c2) AS e1, (bool_or(true AND k.c1 AND k.c2) IS TRUE)::integer AS p1,
               count(*) FILTER (WHERE true AND k.c1 AND k.c2 AND k.c3) AS e2, (bool_or(true AND k.c1 AND k.c2 AND k.c3) IS TRUE)::integer AS p2,
               count(*) FILTER (WHERE true AND k.c1 AND k.c2 AND k.c3 AND k.c4) AS e3, (bool_or(true AND k.c1 AND k.c2 AND k.c3 AND k.c4) IS TRUE)::integer AS p3,
               count(*) FILTER (WHERE true AND k.c1 AND k.c2 AND k.c3 AND k.c4 AND k.c5) AS e4, (bool_or(true AND k.c1 AND k.c2 AND k.c3 AND k.c4 AND k.c5) IS TRUE)::integer AS p4,
               count(*) FILTER (WHERE true AND k.c1 AND k.c2 AND k.c3 AND k.c4 AND k.c5 AND k.c6) AS e5, (bool_or(true AND k.c1 AND k.c2 AND k.c3 AND k.c4 AND k.c5 AND k.c6) IS TRUE)::integer AS p5
        FROM "study_golden"."index_p0" i
        JOIN "study_golden"."criteria_p0" k ON k.person_id = i.person_id AND k.entry_no = i.entry_no
        GROUP BY i.person_id) x
)
SELECT 0, $1::text, (SELECT coalesce(sum(pp.n), 0) FROM pp WHERE pp.passed >= 0)::bigint, (SELECT coalesce(sum(pd.n), 0) FROM pd WHERE pd.passed >= 0)::bigint
UNION ALL
SELECT 1, $2::text, (SELECT coalesce(sum(pp.n), 0) FROM pp WHERE pp.passed >= 1)::bigint, (SELECT coalesce(sum(pd.n), 0) FROM pd WHERE pd.passed >= 1)::bigint
UNION ALL
SELECT 2, $3::text, (SELECT coalesce(sum(pp.n), 0) FROM pp WHERE pp.passed >= 2)::bigint, (SELECT coalesce(sum(pd.n), 0) FROM pd WHERE pd.passed >= 2)::bigint
UNION ALL
SELECT 3, $4::text, (SELECT coalesce(t.p0, 0) FROM t)::bigint, (SELECT coalesce(t.e0, 0) FROM t)::bigint
UNION ALL
SELECT 4, $5::text, (SELECT coalesce(t.p1, 0) FROM t)::bigint, (SELECT coalesce(t.e1, 0) FROM t)::bigint
UNION ALL
SELECT 5, $6::text, (SELECT coalesce(t.p2, 0) FROM t)::bigint, (SELECT coalesce(t.e2, 0) FROM t)::bigint
UNION ALL
SELECT 6, $7::text, (SELECT coalesce(t.p3, 0) FROM t)::bigint, (SELECT coalesce(t.e3, 0) FROM t)::bigint
UNION ALL
SELECT 7, $8::text, (SELECT coalesce(t.p4, 0) FROM t)::bigint, (SELECT coalesce(t.e4, 0) FROM t)::bigint
UNION ALL
SELECT 8, $9::text, (SELECT coalesce(t.p5, 0) FROM t)::bigint, (SELECT coalesce(t.e5, 0) FROM t)::bigint;

-- step followup_p0 (followup) after cohort_p0, spells_p0
-- $1 = 7
-- $2 = "2016-12-31"
-- $3 = "death"
-- $4 = "enrolment_end"
-- $5 = "study_end"
-- $6 = 1
-- $7 = 1
SET LOCAL jit = off;
CREATE TABLE "study_golden"."followup_p0" (
person_id bigint NOT NULL,
entry_no integer NOT NULL,
fu_start date NOT NULL,
fu_end date,
end_reason text,
PRIMARY KEY (person_id, entry_no)
);
INSERT INTO "study_golden"."followup_p0"
(person_id, entry_no, fu_start, fu_end, end_reason)
WITH f AS (
  SELECT c.person_id, c.entry_no, c.index_date, c.index_group, c.index_date + $6::integer AS fu_start
  FROM "study_golden"."cohort_p0" c
  WHERE c.index_date + $7::integer IS NOT NULL
), e0 AS (
  SELECT f.*,
         p.death_date AS e0,
         s.end_date AS e1,
         $2::date AS e2
  FROM f
  LEFT JOIN "person_p0" p ON p.person_id = f.person_id AND p.data_version <= $1::bigint
  LEFT JOIN "study_golden"."spells_p0" s ON s.person_id = f.person_id AND s.start_date <= f.index_date AND (s.end_date IS NULL OR s.end_date >= f.index_date)
), e AS (
  SELECT e0.*, least(e0.e0, e0.e1, e0.e2) AS fu_end FROM e0
)
SELECT e.person_id, e.entry_no, e.fu_start, e.fu_end, CASE WHEN e.e0 = e.fu_end THEN $3::text WHEN e.e1 = e.fu_end THEN $4::text WHEN e.e2 = e.fu_end THEN $5::text END
FROM e
WHERE e.fu_end IS NULL OR e.fu_end >= e.fu_start;

-- step dataset_p0 (dataset) after cohort_p0, followup_p0
SET LOCAL jit = off;
CREATE TABLE "study_golden"."dataset_p0" (
person_id bigint NOT NULL,
entry_no integer NOT NULL,
index_date date NOT NULL,
index_group text,
fu_start date,
fu_end date,
end_reason text,
PRIMARY KEY (person_id, entry_no)
);
INSERT INTO "study_golden"."dataset_p0"
(person_id, entry_no, index_date, index_group, fu_start, fu_end, end_reason)
SELECT i.person_id, i.entry_no, i.index_date, i.index_group, f.fu_start, f.fu_end, f.end_reason
FROM "study_golden"."cohort_p0" i
LEFT JOIN "study_golden"."followup_p0" f ON f.person_id = i.person_id AND f.entry_no = i.entry_no;
