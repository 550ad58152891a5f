-- plan for schema study_golden, 2 partitions, data version 7; partition 0 shown

-- step ev_ace_dispensing_p0 (event)
-- $1 = 7
-- $2 = 7
-- $3 = []string{"C09A%", "C09B%"}
-- $4 = 7
-- $5 = 7
-- $6 = []string{"C09A%", "C09B%"}
SET LOCAL jit = off;
CREATE TABLE "study_golden"."ev_ace_dispensing_p0" (
person_id bigint NOT NULL,
record_id text NOT NULL,
start_date date NOT NULL,
end_date date,
ddd double precision,
daily_ddd double precision,
PRIMARY KEY (person_id, record_id)
);
INSERT INTO "study_golden"."ev_ace_dispensing_p0"
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

-- step ev_arb_dispensing_p0 (event)
-- $1 = 7
-- $2 = 7
-- $3 = []string{"C09C%", "C09D%"}
-- $4 = 7
-- $5 = 7
-- $6 = []string{"C09C%", "C09D%"}
SET LOCAL jit = off;
CREATE TABLE "study_golden"."ev_arb_dispensing_p0" (
person_id bigint NOT NULL,
record_id text NOT NULL,
start_date date NOT NULL,
end_date date,
ddd double precision,
daily_ddd double precision,
PRIMARY KEY (person_id, record_id)
);
INSERT INTO "study_golden"."ev_arb_dispensing_p0"
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

-- step ev_ami_admission_p0 (event)
-- $1 = 7
-- $2 = 7
-- $3 = []string{"410%"}
SET LOCAL jit = off;
CREATE TABLE "study_golden"."ev_ami_admission_p0" (
person_id bigint NOT NULL,
record_id text NOT NULL,
start_date date NOT NULL,
end_date date,
ddd double precision,
daily_ddd double precision,
PRIMARY KEY (person_id, record_id)
);
INSERT INTO "study_golden"."ev_ami_admission_p0"
(person_id, record_id, start_date, end_date, ddd, daily_ddd)
SELECT s.person_id, s.discharge_id, s.admission_date, s.discharge_date, NULL::double precision, NULL::double precision
FROM "sdo_p0" s
WHERE s.data_version <= $1::bigint
  AND EXISTS (SELECT 1 FROM "sdo_diagnosis_p0" d
              WHERE d.person_id = s.person_id AND d.discharge_id = s.discharge_id
                AND d.data_version <= $2::bigint
                AND d.position = 0
                AND ((d.code LIKE ANY($3::text[])) AND (NOT EXISTS (SELECT 1 FROM "dict_icd9cm" WHERE kind = 'dx') OR EXISTS (SELECT 1 FROM "dict_icd9cm" v WHERE v.kind = 'dx' AND v.code = d.code AND v.valid_from <= s.admission_date AND (v.valid_to IS NULL OR s.admission_date <= v.valid_to)))));

-- step ev_antidiabetic_dispensing_p0 (event)
-- $1 = 7
-- $2 = 7
-- $3 = []string{"A10%"}
-- $4 = 7
-- $5 = 7
-- $6 = []string{"A10%"}
SET LOCAL jit = off;
CREATE TABLE "study_golden"."ev_antidiabetic_dispensing_p0" (
person_id bigint NOT NULL,
record_id text NOT NULL,
start_date date NOT NULL,
end_date date,
ddd double precision,
daily_ddd double precision,
PRIMARY KEY (person_id, record_id)
);
INSERT INTO "study_golden"."ev_antidiabetic_dispensing_p0"
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

-- step ev_diabetes_admission_p0 (event)
-- $1 = 7
-- $2 = 7
-- $3 = []string{"250%"}
SET LOCAL jit = off;
CREATE TABLE "study_golden"."ev_diabetes_admission_p0" (
person_id bigint NOT NULL,
record_id text NOT NULL,
start_date date NOT NULL,
end_date date,
ddd double precision,
daily_ddd double precision,
PRIMARY KEY (person_id, record_id)
);
INSERT INTO "study_golden"."ev_diabetes_admission_p0"
(person_id, record_id, start_date, end_date, ddd, daily_ddd)
SELECT s.person_id, s.discharge_id, s.admission_date, s.discharge_date, NULL::double precision, NULL::double precision
FROM "sdo_p0" s
WHERE s.data_version <= $1::bigint
  AND EXISTS (SELECT 1 FROM "sdo_diagnosis_p0" d
              WHERE d.person_id = s.person_id AND d.discharge_id = s.discharge_id
                AND d.data_version <= $2::bigint
                AND ((d.code LIKE ANY($3::text[])) AND (NOT EXISTS (SELECT 1 FROM "dict_icd9cm" WHERE kind = 'dx') OR EXISTS (SELECT 1 FROM "dict_icd9cm" v WHERE v.kind = 'dx' AND v.code = d.code AND v.valid_from <= s.admission_date AND (v.valid_to IS NULL OR s.admission_date <= v.valid_to)))));

-- step ev_diabetes_exemption_p0 (event)
-- $1 = 7
-- $2 = []string{"013"}
SET LOCAL jit = off;
CREATE TABLE "study_golden"."ev_diabetes_exemption_p0" (
person_id bigint NOT NULL,
record_id text NOT NULL,
start_date date NOT NULL,
end_date date,
ddd double precision,
daily_ddd double precision,
PRIMARY KEY (person_id, record_id)
);
INSERT INTO "study_golden"."ev_diabetes_exemption_p0"
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

-- step candidates_p0 (index) after ev_ace_dispensing_p0, ev_arb_dispensing_p0, spells_p0
-- $1 = "A"
-- $2 = "B"
-- $3 = 365
-- $4 = "2013-01-01"
-- $5 = "2018-12-31"
-- $6 = 40
-- $7 = 90
-- $8 = 365
-- $9 = 0
-- $10 = 5
-- $11 = 7
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
  SELECT o.person_id, o.start_date, o.end_date, $1::text AS grp, 0 AS ev FROM "study_golden"."ev_ace_dispensing_p0" o
  UNION ALL
  SELECT o.person_id, o.start_date, o.end_date, $2::text AS grp, 1 AS ev FROM "study_golden"."ev_arb_dispensing_p0" o
), q AS MATERIALIZED (
  SELECT o.person_id, o.start_date, o.end_date, o.grp,
         CASE WHEN (o.start_date BETWEEN $4::date AND $5::date) IS NOT TRUE THEN 0
              WHEN ((p.death_date IS NULL OR p.death_date >= o.start_date)) IS NOT TRUE THEN 1
              WHEN (extract(year FROM age(o.start_date, p.birth_date)) >= $6::integer AND extract(year FROM age(o.start_date, p.birth_date)) <= $7::integer) IS NOT TRUE THEN 2
              WHEN (sp.start_date <= o.start_date - $8::integer AND (sp.end_date IS NULL OR sp.end_date >= o.start_date + $9::integer)) IS NOT TRUE THEN 3
              WHEN (o.prior = 0) IS NOT TRUE THEN 4 ELSE 5 END AS passed
  FROM (SELECT o.*, count(*) OVER (PARTITION BY o.person_id ORDER BY o.start_date
                             RANGE BETWEEN make_interval(days => $3::integer) PRECEDING AND '1 day'::interval PRECEDING) AS prior FROM occ o) o
  JOIN "person_p0" p ON p.person_id = o.person_id AND p.data_version <= $11::bigint
  LEFT JOIN "study_golden"."spells_p0" sp ON sp.person_id = o.person_id AND sp.start_date <= o.start_date AND (sp.end_date IS NULL OR sp.end_date >= o.start_date)
)
SELECT q.person_id, q.start_date,
       CASE WHEN bool_or(q.end_date IS NULL) FILTER (WHERE q.passed = $10::integer) THEN NULL
            ELSE max(q.end_date) FILTER (WHERE q.passed = $10::integer) END,
       min(q.grp), max(q.grp), max(q.passed)
FROM q
GROUP BY q.person_id, q.start_date;

-- step index_p0 (index) after candidates_p0
-- $1 = 5
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

-- step criteria_p0 (criteria) after index_p0, spells_p0, ev_ami_admission_p0
-- $1 = -365
-- $2 = -1
-- $3 = 0
SET LOCAL jit = off;
CREATE TABLE "study_golden"."criteria_p0" (
person_id bigint NOT NULL,
entry_no integer NOT NULL,
c1 boolean NOT NULL,
PRIMARY KEY (person_id, entry_no)
);
INSERT INTO "study_golden"."criteria_p0"
(person_id, entry_no, c1)
SELECT i.person_id,
       i.entry_no,
       coalesce(((SELECT count(*) FROM "study_golden"."ev_ami_admission_p0" o
   WHERE o.person_id = i.person_id AND o.start_date >= i.index_date + $1::integer AND o.start_date <= i.index_date + $2::integer) <= $3::integer), false)
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
WHERE NOT i.two_groups AND k.c1;

-- step attrition_p0 (attrition) after candidates_p0, index_p0, criteria_p0
-- $1 = "days with an index event"
-- $2 = "day 0 in the accrual period (2013-01-01 to 2018-12-31)"
-- $3 = "alive on day 0"
-- $4 = "aged 40 to 90 on day 0"
-- $5 = "enrolled on days -365 to 0"
-- $6 = "washout: no occurrence of any index event on days -365 to -1"
-- $7 = "first qualifying day of each person"
-- $8 = "one exposure group on day 0"
-- $9 = "no AMI admission in the year before"
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
  SELECT sum(x.e0) AS e0, sum(x.p0) AS p0, sum(x.e1) AS e1, sum(x.p1) AS p1, sum(x.e2) AS e2, sum(x.p2) AS p2
  FROM (SELECT i.person_id, count(*) FILTER (WHERE true) AS e0, (bool_or(true) IS TRUE)::integer AS p0,
               count(*) FILTER (WHERE NOT i.two_groups) AS e1, (bool_or(NOT i.two_groups) IS TRUE)::integer AS p1,
               count(*) FILTER (WHERE NOT i.two_groups AND k.c1) AS e2, (bool_or(NOT i.two_groups AND k.c1) IS TRUE)::integer AS p2
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
SELECT 4, $5::text, (SELECT coalesce(sum(pp.n), 0) FROM pp WHERE pp.passed >= 4)::bigint, (SELECT coalesce(sum(pd.n), 0) FROM pd WHERE pd.passed >= 4)::bigint
UNION ALL
SELECT 5, $6::text, (SELECT coalesce(sum(pp.n), 0) FROM pp WHERE pp.passed >= 5)::bigint, (SELECT coalesce(sum(pd.n), 0) FROM pd WHERE pd.passed >= 5)::bigint
UNION ALL
SELECT 6, $7::text, (SELECT coalesce(t.p0, 0) FROM t)::bigint, (SELECT coalesce(t.e0, 0) FROM t)::bigint
UNION ALL
SELECT 7, $8::text, (SELECT coalesce(t.p1, 0) FROM t)::bigint, (SELECT coalesce(t.e1, 0) FROM t)::bigint
UNION ALL
SELECT 8, $9::text, (SELECT coalesce(t.p2, 0) FROM t)::bigint, (SELECT coalesce(t.e2, 0) FROM t)::bigint;

-- step followup_p0 (followup) after cohort_p0, ev_ami_admission_p0, spells_p0
-- $1 = 7
-- $2 = 1825
-- $3 = "2019-12-31"
-- $4 = "outcome"
-- $5 = "death"
-- $6 = "enrolment_end"
-- $7 = "max_days"
-- $8 = "study_end"
-- $9 = 1
-- $10 = 1
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
  SELECT c.person_id, c.entry_no, c.index_date, c.index_group, c.index_date + $9::integer AS fu_start
  FROM "study_golden"."cohort_p0" c
  WHERE c.index_date + $10::integer IS NOT NULL
), x0 AS (
  SELECT y.person_id, y.entry_no, min(y.start_date) AS d
  FROM (SELECT f.person_id, f.entry_no, o.start_date FROM f JOIN "study_golden"."ev_ami_admission_p0" o ON o.person_id = f.person_id WHERE o.start_date >= f.fu_start) y
  GROUP BY y.person_id, y.entry_no
), e0 AS (
  SELECT f.*,
         x0.d AS e0,
         p.death_date AS e1,
         s.end_date AS e2,
         f.fu_start + $2::integer - 1 AS e3,
         $3::date AS e4
  FROM f
  LEFT JOIN "person_p0" p ON p.person_id = f.person_id AND p.data_version <= $1::bigint
  LEFT JOIN "study_golden"."spells_p0" s ON s.person_id = f.person_id AND s.start_date <= f.index_date AND (s.end_date IS NULL OR s.end_date >= f.index_date)
  LEFT JOIN x0 ON x0.person_id = f.person_id AND x0.entry_no = f.entry_no
), e AS (
  SELECT e0.*, least(e0.e0, e0.e1, e0.e2, e0.e3, e0.e4) AS fu_end FROM e0
)
SELECT e.person_id, e.entry_no, e.fu_start, e.fu_end, CASE WHEN e.e0 = e.fu_end THEN $4::text WHEN e.e1 = e.fu_end THEN $5::text WHEN e.e2 = e.fu_end THEN $6::text WHEN e.e3 = e.fu_end THEN $7::text WHEN e.e4 = e.fu_end THEN $8::text END
FROM e
WHERE e.fu_end IS NULL OR e.fu_end >= e.fu_start;

-- step outcome_ami_p0 (outcome) after followup_p0, ev_ami_admission_p0
SET LOCAL jit = off;
CREATE TABLE "study_golden"."outcome_ami_p0" (
person_id bigint NOT NULL,
entry_no integer NOT NULL,
event boolean NOT NULL,
event_date date,
time integer,
n_events integer NOT NULL,
PRIMARY KEY (person_id, entry_no)
);
INSERT INTO "study_golden"."outcome_ami_p0"
(person_id, entry_no, event, event_date, time, n_events)
SELECT f.person_id, f.entry_no, x.first IS NOT NULL, x.first,
       coalesce(x.first, f.fu_end) - f.fu_start + 1, x.n
FROM "study_golden"."followup_p0" f
CROSS JOIN LATERAL (
  SELECT min(y.start_date) AS first, count(DISTINCT y.start_date)::integer AS n
  FROM (SELECT o.start_date FROM "study_golden"."ev_ami_admission_p0" o WHERE o.person_id = f.person_id) y
  WHERE y.start_date >= f.fu_start AND (f.fu_end IS NULL OR y.start_date <= f.fu_end)
) x;

-- step cov_exposure_p0 (covariate) after cohort_p0
SET LOCAL jit = off;
CREATE TABLE "study_golden"."cov_exposure_p0" (
person_id bigint NOT NULL,
entry_no integer NOT NULL,
value text,
PRIMARY KEY (person_id, entry_no)
);
INSERT INTO "study_golden"."cov_exposure_p0"
(person_id, entry_no, value)
SELECT i.person_id, i.entry_no, i.index_group
FROM "study_golden"."cohort_p0" i;

-- step cov_age_p0 (covariate) after cohort_p0
-- $1 = 7
SET LOCAL jit = off;
CREATE TABLE "study_golden"."cov_age_p0" (
person_id bigint NOT NULL,
entry_no integer NOT NULL,
value double precision,
PRIMARY KEY (person_id, entry_no)
);
INSERT INTO "study_golden"."cov_age_p0"
(person_id, entry_no, value)
SELECT i.person_id, i.entry_no, (SELECT extract(year FROM age(i.index_date, p.birth_date))::double precision FROM "person_p0" p WHERE p.person_id = i.person_id AND p.data_version <= $1::bigint)
FROM "study_golden"."cohort_p0" i;

-- step cov_sex_p0 (covariate) after cohort_p0
-- $1 = 7
SET LOCAL jit = off;
CREATE TABLE "study_golden"."cov_sex_p0" (
person_id bigint NOT NULL,
entry_no integer NOT NULL,
value text,
PRIMARY KEY (person_id, entry_no)
);
INSERT INTO "study_golden"."cov_sex_p0"
(person_id, entry_no, value)
SELECT i.person_id, i.entry_no, (SELECT p.sex FROM "person_p0" p WHERE p.person_id = i.person_id AND p.data_version <= $1::bigint)
FROM "study_golden"."cohort_p0" i;

-- step cov_antidiabetic_use_p0 (covariate) after cohort_p0, ev_antidiabetic_dispensing_p0
-- $1 = -365
-- $2 = 0
SET LOCAL jit = off;
CREATE TABLE "study_golden"."cov_antidiabetic_use_p0" (
person_id bigint NOT NULL,
entry_no integer NOT NULL,
value boolean,
PRIMARY KEY (person_id, entry_no)
);
INSERT INTO "study_golden"."cov_antidiabetic_use_p0"
(person_id, entry_no, value)
SELECT i.person_id, i.entry_no, (SELECT count(*) > 0 FROM "study_golden"."ev_antidiabetic_dispensing_p0" o WHERE o.person_id = i.person_id AND o.start_date >= i.index_date + $1::integer AND o.start_date <= i.index_date + $2::integer)
FROM "study_golden"."cohort_p0" i;

-- step cov_diabetes_admission_p0 (covariate) after cohort_p0, ev_diabetes_admission_p0
-- $1 = -1
SET LOCAL jit = off;
CREATE TABLE "study_golden"."cov_diabetes_admission_p0" (
person_id bigint NOT NULL,
entry_no integer NOT NULL,
value boolean,
PRIMARY KEY (person_id, entry_no)
);
INSERT INTO "study_golden"."cov_diabetes_admission_p0"
(person_id, entry_no, value)
SELECT i.person_id, i.entry_no, (SELECT count(*) > 0 FROM "study_golden"."ev_diabetes_admission_p0" o WHERE o.person_id = i.person_id AND o.start_date <= i.index_date + $1::integer)
FROM "study_golden"."cohort_p0" i;

-- step cov_diabetes_exemption_p0 (covariate) after cohort_p0, ev_diabetes_exemption_p0
-- $1 = 0
-- $2 = 0
SET LOCAL jit = off;
CREATE TABLE "study_golden"."cov_diabetes_exemption_p0" (
person_id bigint NOT NULL,
entry_no integer NOT NULL,
value boolean,
PRIMARY KEY (person_id, entry_no)
);
INSERT INTO "study_golden"."cov_diabetes_exemption_p0"
(person_id, entry_no, value)
SELECT i.person_id, i.entry_no, (SELECT count(*) > 0 FROM "study_golden"."ev_diabetes_exemption_p0" o WHERE o.person_id = i.person_id AND o.start_date >= i.index_date + $1::integer AND o.start_date <= i.index_date + $2::integer)
FROM "study_golden"."cohort_p0" i;

-- step cov_diabetes_p0 (covariate) after cohort_p0, cov_antidiabetic_use_p0, cov_diabetes_admission_p0, cov_diabetes_exemption_p0
SET LOCAL jit = off;
CREATE TABLE "study_golden"."cov_diabetes_p0" (
person_id bigint NOT NULL,
entry_no integer NOT NULL,
value boolean,
PRIMARY KEY (person_id, entry_no)
);
INSERT INTO "study_golden"."cov_diabetes_p0"
(person_id, entry_no, value)
SELECT i.person_id, i.entry_no, (v0.value OR v1.value OR v2.value)
FROM "study_golden"."cohort_p0" i
JOIN "study_golden"."cov_antidiabetic_use_p0" v0 ON v0.person_id = i.person_id AND v0.entry_no = i.entry_no
JOIN "study_golden"."cov_diabetes_admission_p0" v1 ON v1.person_id = i.person_id AND v1.entry_no = i.entry_no
JOIN "study_golden"."cov_diabetes_exemption_p0" v2 ON v2.person_id = i.person_id AND v2.entry_no = i.entry_no;

-- step dataset_p0 (dataset) after cohort_p0, followup_p0, outcome_ami_p0, cov_exposure_p0, cov_age_p0, cov_sex_p0, cov_antidiabetic_use_p0, cov_diabetes_admission_p0, cov_diabetes_exemption_p0, cov_diabetes_p0
SET LOCAL jit = off;
CREATE TABLE "study_golden"."dataset_p0" (
person_id bigint NOT NULL,
entry_no integer NOT NULL,
index_date date NOT NULL,
index_group text,
fu_start date,
fu_end date,
end_reason text,
"out_ami_event" boolean,
"out_ami_time" integer,
"cov_exposure" text,
"cov_age" double precision,
"cov_sex" text,
"cov_antidiabetic_use" boolean,
"cov_diabetes_admission" boolean,
"cov_diabetes_exemption" boolean,
"cov_diabetes" boolean,
PRIMARY KEY (person_id, entry_no)
);
INSERT INTO "study_golden"."dataset_p0"
(person_id, entry_no, index_date, index_group, fu_start, fu_end, end_reason, "out_ami_event", "out_ami_time", "cov_exposure", "cov_age", "cov_sex", "cov_antidiabetic_use", "cov_diabetes_admission", "cov_diabetes_exemption", "cov_diabetes")
SELECT i.person_id, i.entry_no, i.index_date, i.index_group, f.fu_start, f.fu_end, f.end_reason, o0.event, o0.time, v0.value, v1.value, v2.value, v3.value, v4.value, v5.value, v6.value
FROM "study_golden"."cohort_p0" i
LEFT JOIN "study_golden"."followup_p0" f ON f.person_id = i.person_id AND f.entry_no = i.entry_no
LEFT JOIN "study_golden"."outcome_ami_p0" o0 ON o0.person_id = i.person_id AND o0.entry_no = i.entry_no
JOIN "study_golden"."cov_exposure_p0" v0 ON v0.person_id = i.person_id AND v0.entry_no = i.entry_no
JOIN "study_golden"."cov_age_p0" v1 ON v1.person_id = i.person_id AND v1.entry_no = i.entry_no
JOIN "study_golden"."cov_sex_p0" v2 ON v2.person_id = i.person_id AND v2.entry_no = i.entry_no
JOIN "study_golden"."cov_antidiabetic_use_p0" v3 ON v3.person_id = i.person_id AND v3.entry_no = i.entry_no
JOIN "study_golden"."cov_diabetes_admission_p0" v4 ON v4.person_id = i.person_id AND v4.entry_no = i.entry_no
JOIN "study_golden"."cov_diabetes_exemption_p0" v5 ON v5.person_id = i.person_id AND v5.entry_no = i.entry_no
JOIN "study_golden"."cov_diabetes_p0" v6 ON v6.person_id = i.person_id AND v6.entry_no = i.entry_no;
