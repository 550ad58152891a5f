-- plan for schema study_golden, 2 partitions, data version 7; partition 0 shown
-- data end: 2019-12-31 (enrolment)

-- step ev_nsaid_p0 (event)
-- $1 = 7
-- $2 = 7
-- $3 = []string{"M01A%"}
-- $4 = 7
-- $5 = 7
-- $6 = []string{"M01A%"}
SET LOCAL jit = off;
CREATE TABLE "study_golden"."ev_nsaid_p0" (
person_id bigint NOT NULL,
record_id text NOT NULL,
start_date date NOT NULL,
end_date date,
ddd double precision,
daily_ddd double precision,
PRIMARY KEY (person_id, record_id)
);
INSERT INTO "study_golden"."ev_nsaid_p0"
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

-- step candidates_p0 (index) after ev_nsaid_p0, spells_p0
-- $1 = "2015-01-01"
-- $2 = "2015-12-31"
-- $3 = 365
-- $4 = 0
-- $5 = 3
-- $6 = 7
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
  SELECT o.person_id, o.start_date, o.end_date, NULL::text AS grp, 0 AS ev FROM "study_golden"."ev_nsaid_p0" o
), q AS MATERIALIZED (
  SELECT o.person_id, o.start_date, o.end_date, o.grp,
         CASE WHEN (o.start_date BETWEEN $1::date AND $2::date) IS NOT TRUE THEN 0
              WHEN ((p.death_date IS NULL OR p.death_date >= o.start_date)) IS NOT TRUE THEN 1
              WHEN (sp.start_date <= o.start_date - $3::integer AND (sp.end_date IS NULL OR sp.end_date >= o.start_date + $4::integer)) IS NOT TRUE THEN 2 ELSE 3 END AS passed
  FROM (SELECT o.*, 0 AS prior FROM occ o) o
  JOIN "person_p0" p ON p.person_id = o.person_id AND p.data_version <= $6::bigint
  LEFT JOIN "study_golden"."spells_p0" sp ON sp.person_id = o.person_id AND sp.start_date <= o.start_date AND (sp.end_date IS NULL OR sp.end_date >= o.start_date)
)
SELECT q.person_id, q.start_date,
       CASE WHEN bool_or(q.end_date IS NULL) FILTER (WHERE q.passed = $5::integer) THEN NULL
            ELSE max(q.end_date) FILTER (WHERE q.passed = $5::integer) END,
       min(q.grp), max(q.grp), max(q.passed)
FROM q
GROUP BY q.person_id, q.start_date;

-- step index_p0 (index) after candidates_p0
-- $1 = 3
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

-- step criteria_p0 (criteria) after index_p0, spells_p0
SET LOCAL jit = off;
CREATE TABLE "study_golden"."criteria_p0" (
person_id bigint NOT NULL,
entry_no integer NOT NULL,
PRIMARY KEY (person_id, entry_no)
);
INSERT INTO "study_golden"."criteria_p0"
(person_id, entry_no)
SELECT i.person_id,
       i.entry_no
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
WHERE NOT i.two_groups;

-- step attrition_p0 (attrition) after candidates_p0, index_p0, criteria_p0
-- $1 = "days with an index event"
-- $2 = "day 0 in the accrual period (2015-01-01 to 2015-12-31)"
-- $3 = "alive on day 0"
-- $4 = "enrolled on days -365 to 0"
-- $5 = "first qualifying day of each person"
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
  SELECT sum(x.e0) AS e0, sum(x.p0) AS p0
  FROM (SELECT i.person_id, count(*) FILTER (WHERE true) AS e0, (bool_or(true) IS TRUE)::integer AS p0
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
SELECT 3, $4::text, (SELECT coalesce(sum(pp.n), 0) FROM pp WHERE pp.passed >= 3)::bigint, (SELECT coalesce(sum(pd.n), 0) FROM pd WHERE pd.passed >= 3)::bigint
UNION ALL
SELECT 4, $5::text, (SELECT coalesce(t.p0, 0) FROM t)::bigint, (SELECT coalesce(t.e0, 0) FROM t)::bigint;

-- step followup_p0 (followup) after cohort_p0, spells_p0
-- $1 = 7
-- $2 = "2019-12-31"
-- $3 = "death"
-- $4 = "enrolment_end"
-- $5 = "data_end"
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

-- step cov_later_p0 (covariate) after cohort_p0, ev_nsaid_p0, spells_p0
-- $1 = 1
-- $2 = 7
-- $3 = "2019-12-31"
SET LOCAL jit = off;
CREATE TABLE "study_golden"."cov_later_p0" (
person_id bigint NOT NULL,
entry_no integer NOT NULL,
value boolean,
PRIMARY KEY (person_id, entry_no)
);
INSERT INTO "study_golden"."cov_later_p0"
(person_id, entry_no, value)
SELECT i.person_id, i.entry_no, (SELECT count(*) > 0 FROM "study_golden"."ev_nsaid_p0" o WHERE o.person_id = i.person_id AND o.start_date >= i.index_date + $1::integer AND o.start_date <= least((SELECT p.death_date FROM "person_p0" p WHERE p.person_id = i.person_id AND p.data_version <= $2::bigint), (SELECT s.end_date FROM "study_golden"."spells_p0" s WHERE s.person_id = i.person_id AND s.start_date <= i.index_date AND (s.end_date IS NULL OR s.end_date >= i.index_date)), $3::date))
FROM "study_golden"."cohort_p0" i;

-- step dataset_p0 (dataset) after cohort_p0, followup_p0, cov_later_p0
SET LOCAL jit = off;
CREATE TABLE "study_golden"."dataset_p0" (
person_id bigint NOT NULL,
entry_no integer NOT NULL,
index_date date NOT NULL,
index_group text,
fu_start date,
fu_end date,
end_reason text,
"cov_later" boolean,
PRIMARY KEY (person_id, entry_no)
);
INSERT INTO "study_golden"."dataset_p0"
(person_id, entry_no, index_date, index_group, fu_start, fu_end, end_reason, "cov_later")
SELECT i.person_id, i.entry_no, i.index_date, i.index_group, f.fu_start, f.fu_end, f.end_reason, v0.value
FROM "study_golden"."cohort_p0" i
LEFT JOIN "study_golden"."followup_p0" f ON f.person_id = i.person_id AND f.entry_no = i.entry_no
JOIN "study_golden"."cov_later_p0" v0 ON v0.person_id = i.person_id AND v0.entry_no = i.entry_no;
