-- plan for schema study_golden, 2 partitions, data version 7; partition 0 shown

-- step ev_ace_p0 (event)
-- $1 = 7
-- $2 = 7
-- $3 = []string{"C09A%"}
-- $4 = 7
-- $5 = 7
-- $6 = []string{"C09A%"}
SET LOCAL jit = off;
CREATE TABLE "study_golden"."ev_ace_p0" (
person_id bigint NOT NULL,
record_id text NOT NULL,
start_date date NOT NULL,
end_date date,
ddd double precision,
daily_ddd double precision,
PRIMARY KEY (person_id, record_id)
);
INSERT INTO "study_golden"."ev_ace_p0"
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

-- step ev_arb_p0 (event)
-- $1 = 7
-- $2 = 7
-- $3 = []string{"C09C%"}
-- $4 = 7
-- $5 = 7
-- $6 = []string{"C09C%"}
SET LOCAL jit = off;
CREATE TABLE "study_golden"."ev_arb_p0" (
person_id bigint NOT NULL,
record_id text NOT NULL,
start_date date NOT NULL,
end_date date,
ddd double precision,
daily_ddd double precision,
PRIMARY KEY (person_id, record_id)
);
INSERT INTO "study_golden"."ev_arb_p0"
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

-- step candidates_p0 (index) after spells_p0
-- $1 = "2015-04-01"
-- $2 = "2015-04-01"
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
-- $1 = "persons in the registry"
-- $2 = "alive on day 0"
-- $3 = "enrolled on day 0"
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
)
SELECT 0, $1::text, (SELECT coalesce(sum(pp.n), 0) FROM pp WHERE pp.passed >= 0)::bigint, (SELECT coalesce(sum(pd.n), 0) FROM pd WHERE pd.passed >= 0)::bigint
UNION ALL
SELECT 1, $2::text, (SELECT coalesce(sum(pp.n), 0) FROM pp WHERE pp.passed >= 1)::bigint, (SELECT coalesce(sum(pd.n), 0) FROM pd WHERE pd.passed >= 1)::bigint
UNION ALL
SELECT 2, $3::text, (SELECT coalesce(sum(pp.n), 0) FROM pp WHERE pp.passed >= 2)::bigint, (SELECT coalesce(sum(pd.n), 0) FROM pd WHERE pd.passed >= 2)::bigint;

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

-- step cov_cu_grace_p0 (covariate) after cohort_p0, ev_ace_p0
-- $1 = 15
SET LOCAL jit = off;
CREATE TABLE "study_golden"."cov_cu_grace_p0" (
person_id bigint NOT NULL,
entry_no integer NOT NULL,
value boolean,
PRIMARY KEY (person_id, entry_no)
);
INSERT INTO "study_golden"."cov_cu_grace_p0"
(person_id, entry_no, value)
WITH d AS (
  SELECT c.person_id, c.entry_no, c.index_date AS day0, NULL::date AS w_lo, NULL::date AS w_hi,
         o.start_date, o.record_id, greatest(1, ceil(o.ddd / coalesce(o.daily_ddd, 1)))::integer AS days
  FROM "study_golden"."cohort_p0" c
  JOIN "study_golden"."ev_ace_p0" o ON o.person_id = c.person_id AND o.start_date <= c.index_date + $1::integer
), s AS (
  SELECT d.*, sum(d.days) OVER w AS cum
  FROM d
  WINDOW w AS (PARTITION BY d.person_id, d.entry_no ORDER BY d.start_date, d.record_id ROWS UNBOUNDED PRECEDING)
), e AS (
  SELECT s.*, max(s.start_date - (s.cum - s.days)::integer) OVER w + (s.cum - 1)::integer AS cover_end
  FROM s
  WINDOW w AS (PARTITION BY s.person_id, s.entry_no ORDER BY s.start_date, s.record_id ROWS UNBOUNDED PRECEDING)
), l AS (
  SELECT e.*, e.cover_end - e.days + 1 AS supply_start,
         max(e.cover_end) OVER (PARTITION BY e.person_id, e.entry_no ORDER BY e.start_date, e.record_id
                                ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS prev_end
  FROM e
), g AS (
  SELECT l.*, sum(CASE WHEN l.prev_end IS NULL OR l.supply_start - l.prev_end - 1 > $1::integer THEN 1 ELSE 0 END)
                OVER (PARTITION BY l.person_id, l.entry_no ORDER BY l.start_date, l.record_id ROWS UNBOUNDED PRECEDING) AS episode
  FROM l
), ep AS (
  SELECT g.person_id, g.entry_no, g.day0, g.w_lo, g.w_hi, min(g.supply_start) AS first_day, max(g.cover_end) AS last_day
  FROM g
  GROUP BY g.person_id, g.entry_no, g.day0, g.w_lo, g.w_hi, g.episode
), a AS (
  SELECT DISTINCT x.person_id, x.entry_no FROM ep x WHERE x.first_day <= x.day0 AND x.day0 <= x.last_day
)
SELECT i.person_id, i.entry_no, a.person_id IS NOT NULL
FROM "study_golden"."cohort_p0" i
LEFT JOIN a ON a.person_id = i.person_id AND a.entry_no = i.entry_no;

-- step cov_pdc_p0 (covariate) after cohort_p0, spells_p0, ev_ace_p0
-- $1 = 0
-- $2 = 89
-- $3 = 7
SET LOCAL jit = off;
CREATE TABLE "study_golden"."cov_pdc_p0" (
person_id bigint NOT NULL,
entry_no integer NOT NULL,
value double precision,
observed_days integer,
PRIMARY KEY (person_id, entry_no)
);
INSERT INTO "study_golden"."cov_pdc_p0"
(person_id, entry_no, value, observed_days)
WITH wd AS (
  SELECT i.person_id, i.entry_no, i.index_date AS day0, i.index_date + $1::integer AS w_lo, least(i.index_date + $2::integer, least((SELECT p.death_date FROM "person_p0" p WHERE p.person_id = i.person_id AND p.data_version <= $3::bigint), (SELECT s.end_date FROM "study_golden"."spells_p0" s WHERE s.person_id = i.person_id AND s.start_date <= i.index_date AND (s.end_date IS NULL OR s.end_date >= i.index_date)))) AS w_hi, greatest(0, least(i.index_date + $2::integer, least((SELECT p.death_date FROM "person_p0" p WHERE p.person_id = i.person_id AND p.data_version <= $3::bigint), (SELECT s.end_date FROM "study_golden"."spells_p0" s WHERE s.person_id = i.person_id AND s.start_date <= i.index_date AND (s.end_date IS NULL OR s.end_date >= i.index_date)))) - (i.index_date + $1::integer) + 1) AS w_days
  FROM "study_golden"."cohort_p0" i
), d AS (
  SELECT x.person_id, x.entry_no, x.day0, x.w_lo, x.w_hi, o.start_date, o.record_id,
         greatest(1, ceil(o.ddd / coalesce(o.daily_ddd, 1)))::integer AS days
  FROM wd x
  JOIN "study_golden"."ev_ace_p0" o ON o.person_id = x.person_id AND (x.w_hi IS NULL OR o.start_date <= x.w_hi)
), s AS (
  SELECT d.*, sum(d.days) OVER w AS cum
  FROM d
  WINDOW w AS (PARTITION BY d.person_id, d.entry_no ORDER BY d.start_date, d.record_id ROWS UNBOUNDED PRECEDING)
), e AS (
  SELECT s.*, max(s.start_date - (s.cum - s.days)::integer) OVER w + (s.cum - 1)::integer AS cover_end
  FROM s
  WINDOW w AS (PARTITION BY s.person_id, s.entry_no ORDER BY s.start_date, s.record_id ROWS UNBOUNDED PRECEDING)
), w AS (
  SELECT e.person_id, e.entry_no, e.record_id,
         greatest(e.cover_end - e.days + 1, e.w_lo) AS a, least(e.cover_end, e.w_hi) AS z
  FROM e
), u AS (
  SELECT w.*, max(w.z) OVER (PARTITION BY w.person_id, w.entry_no ORDER BY w.a, w.z, w.record_id
                             ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS prev_z
  FROM w
  WHERE w.a <= w.z
), a AS (
  SELECT x.person_id, x.entry_no, sum(greatest(0, x.z - greatest(x.a - 1, coalesce(x.prev_z, x.a - 1)))) AS v FROM u x GROUP BY x.person_id, x.entry_no
)
SELECT i.person_id, i.entry_no, coalesce(a.v, 0)::double precision / nullif(i.w_days, 0),
       i.w_days
FROM wd i
LEFT JOIN a ON a.person_id = i.person_id AND a.entry_no = i.entry_no;

-- step cov_pdc_nc_p0 (covariate) after cohort_p0, spells_p0, ev_ace_p0
-- $1 = 0
-- $2 = 89
-- $3 = 7
SET LOCAL jit = off;
CREATE TABLE "study_golden"."cov_pdc_nc_p0" (
person_id bigint NOT NULL,
entry_no integer NOT NULL,
value double precision,
observed_days integer,
PRIMARY KEY (person_id, entry_no)
);
INSERT INTO "study_golden"."cov_pdc_nc_p0"
(person_id, entry_no, value, observed_days)
WITH wd AS (
  SELECT i.person_id, i.entry_no, i.index_date AS day0, i.index_date + $1::integer AS w_lo, least(i.index_date + $2::integer, least((SELECT p.death_date FROM "person_p0" p WHERE p.person_id = i.person_id AND p.data_version <= $3::bigint), (SELECT s.end_date FROM "study_golden"."spells_p0" s WHERE s.person_id = i.person_id AND s.start_date <= i.index_date AND (s.end_date IS NULL OR s.end_date >= i.index_date)))) AS w_hi, greatest(0, least(i.index_date + $2::integer, least((SELECT p.death_date FROM "person_p0" p WHERE p.person_id = i.person_id AND p.data_version <= $3::bigint), (SELECT s.end_date FROM "study_golden"."spells_p0" s WHERE s.person_id = i.person_id AND s.start_date <= i.index_date AND (s.end_date IS NULL OR s.end_date >= i.index_date)))) - (i.index_date + $1::integer) + 1) AS w_days
  FROM "study_golden"."cohort_p0" i
), d AS (
  SELECT x.person_id, x.entry_no, x.day0, x.w_lo, x.w_hi, o.start_date, o.record_id,
         greatest(1, ceil(o.ddd / coalesce(o.daily_ddd, 1)))::integer AS days
  FROM wd x
  JOIN "study_golden"."ev_ace_p0" o ON o.person_id = x.person_id AND (x.w_hi IS NULL OR o.start_date <= x.w_hi)
), e AS (
  SELECT d.*, d.start_date + d.days - 1 AS cover_end
  FROM d
), w AS (
  SELECT e.person_id, e.entry_no, e.record_id,
         greatest(e.cover_end - e.days + 1, e.w_lo) AS a, least(e.cover_end, e.w_hi) AS z
  FROM e
), u AS (
  SELECT w.*, max(w.z) OVER (PARTITION BY w.person_id, w.entry_no ORDER BY w.a, w.z, w.record_id
                             ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS prev_z
  FROM w
  WHERE w.a <= w.z
), a AS (
  SELECT x.person_id, x.entry_no, sum(greatest(0, x.z - greatest(x.a - 1, coalesce(x.prev_z, x.a - 1)))) AS v FROM u x GROUP BY x.person_id, x.entry_no
)
SELECT i.person_id, i.entry_no, coalesce(a.v, 0)::double precision / nullif(i.w_days, 0),
       i.w_days
FROM wd i
LEFT JOIN a ON a.person_id = i.person_id AND a.entry_no = i.entry_no;

-- step cov_mpr_p0 (covariate) after cohort_p0, spells_p0, ev_ace_p0
-- $1 = 0
-- $2 = 89
-- $3 = 7
SET LOCAL jit = off;
CREATE TABLE "study_golden"."cov_mpr_p0" (
person_id bigint NOT NULL,
entry_no integer NOT NULL,
value double precision,
observed_days integer,
PRIMARY KEY (person_id, entry_no)
);
INSERT INTO "study_golden"."cov_mpr_p0"
(person_id, entry_no, value, observed_days)
WITH wd AS (
  SELECT i.person_id, i.entry_no, i.index_date AS day0, i.index_date + $1::integer AS w_lo, least(i.index_date + $2::integer, least((SELECT p.death_date FROM "person_p0" p WHERE p.person_id = i.person_id AND p.data_version <= $3::bigint), (SELECT s.end_date FROM "study_golden"."spells_p0" s WHERE s.person_id = i.person_id AND s.start_date <= i.index_date AND (s.end_date IS NULL OR s.end_date >= i.index_date)))) AS w_hi, greatest(0, least(i.index_date + $2::integer, least((SELECT p.death_date FROM "person_p0" p WHERE p.person_id = i.person_id AND p.data_version <= $3::bigint), (SELECT s.end_date FROM "study_golden"."spells_p0" s WHERE s.person_id = i.person_id AND s.start_date <= i.index_date AND (s.end_date IS NULL OR s.end_date >= i.index_date)))) - (i.index_date + $1::integer) + 1) AS w_days
  FROM "study_golden"."cohort_p0" i
), d AS (
  SELECT x.person_id, x.entry_no, x.day0, x.w_lo, x.w_hi, o.start_date, o.record_id,
         greatest(1, ceil(o.ddd / coalesce(o.daily_ddd, 1)))::integer AS days
  FROM wd x
  JOIN "study_golden"."ev_ace_p0" o ON o.person_id = x.person_id AND (x.w_hi IS NULL OR o.start_date <= x.w_hi)
), e AS (
  SELECT d.*, d.start_date + d.days - 1 AS cover_end
  FROM d
), a AS (
  SELECT x.person_id, x.entry_no, sum(x.days) AS v FROM d x WHERE x.start_date >= x.w_lo GROUP BY x.person_id, x.entry_no
)
SELECT i.person_id, i.entry_no, least(1, coalesce(a.v, 0)::double precision / nullif(i.w_days, 0)),
       i.w_days
FROM wd i
LEFT JOIN a ON a.person_id = i.person_id AND a.entry_no = i.entry_no;

-- step cov_dur_p0 (covariate) after cohort_p0, spells_p0, ev_ace_p0
-- $1 = 0
-- $2 = 89
-- $3 = 7
-- $4 = 10
SET LOCAL jit = off;
CREATE TABLE "study_golden"."cov_dur_p0" (
person_id bigint NOT NULL,
entry_no integer NOT NULL,
value double precision,
PRIMARY KEY (person_id, entry_no)
);
INSERT INTO "study_golden"."cov_dur_p0"
(person_id, entry_no, value)
WITH wd AS (
  SELECT i.person_id, i.entry_no, i.index_date AS day0, i.index_date + $1::integer AS w_lo, least(i.index_date + $2::integer, least((SELECT p.death_date FROM "person_p0" p WHERE p.person_id = i.person_id AND p.data_version <= $3::bigint), (SELECT s.end_date FROM "study_golden"."spells_p0" s WHERE s.person_id = i.person_id AND s.start_date <= i.index_date AND (s.end_date IS NULL OR s.end_date >= i.index_date)))) AS w_hi, greatest(0, least(i.index_date + $2::integer, least((SELECT p.death_date FROM "person_p0" p WHERE p.person_id = i.person_id AND p.data_version <= $3::bigint), (SELECT s.end_date FROM "study_golden"."spells_p0" s WHERE s.person_id = i.person_id AND s.start_date <= i.index_date AND (s.end_date IS NULL OR s.end_date >= i.index_date)))) - (i.index_date + $1::integer) + 1) AS w_days
  FROM "study_golden"."cohort_p0" i
), d AS (
  SELECT x.person_id, x.entry_no, x.day0, x.w_lo, x.w_hi, o.start_date, o.record_id,
         greatest(1, ceil(o.ddd / coalesce(o.daily_ddd, 1)))::integer AS days
  FROM wd x
  JOIN "study_golden"."ev_ace_p0" o ON o.person_id = x.person_id AND (x.w_hi IS NULL OR o.start_date <= x.w_hi)
), s AS (
  SELECT d.*, sum(d.days) OVER w AS cum
  FROM d
  WINDOW w AS (PARTITION BY d.person_id, d.entry_no ORDER BY d.start_date, d.record_id ROWS UNBOUNDED PRECEDING)
), e AS (
  SELECT s.*, max(s.start_date - (s.cum - s.days)::integer) OVER w + (s.cum - 1)::integer AS cover_end
  FROM s
  WINDOW w AS (PARTITION BY s.person_id, s.entry_no ORDER BY s.start_date, s.record_id ROWS UNBOUNDED PRECEDING)
), l AS (
  SELECT e.*, e.cover_end - e.days + 1 AS supply_start,
         max(e.cover_end) OVER (PARTITION BY e.person_id, e.entry_no ORDER BY e.start_date, e.record_id
                                ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS prev_end
  FROM e
), g AS (
  SELECT l.*, sum(CASE WHEN l.prev_end IS NULL OR l.supply_start - l.prev_end - 1 > $4::integer THEN 1 ELSE 0 END)
                OVER (PARTITION BY l.person_id, l.entry_no ORDER BY l.start_date, l.record_id ROWS UNBOUNDED PRECEDING) AS episode
  FROM l
), ep AS (
  SELECT g.person_id, g.entry_no, g.day0, g.w_lo, g.w_hi, min(g.supply_start) AS first_day, max(g.cover_end) AS last_day
  FROM g
  GROUP BY g.person_id, g.entry_no, g.day0, g.w_lo, g.w_hi, g.episode
), a AS (
  SELECT DISTINCT ON (x.person_id, x.entry_no) x.person_id, x.entry_no,
         (least(x.last_day, x.w_hi) - x.first_day + 1)::double precision AS v
  FROM ep x
  WHERE (x.w_lo IS NULL OR x.first_day >= x.w_lo) AND (x.w_hi IS NULL OR x.first_day <= x.w_hi)
  ORDER BY x.person_id, x.entry_no, x.first_day
)
SELECT i.person_id, i.entry_no, a.v
FROM wd i
LEFT JOIN a ON a.person_id = i.person_id AND a.entry_no = i.entry_no;

-- step cov_disc_p0 (covariate) after cohort_p0, spells_p0, ev_ace_p0
-- $1 = 0
-- $2 = 89
-- $3 = 7
-- $4 = 10
SET LOCAL jit = off;
CREATE TABLE "study_golden"."cov_disc_p0" (
person_id bigint NOT NULL,
entry_no integer NOT NULL,
value boolean,
PRIMARY KEY (person_id, entry_no)
);
INSERT INTO "study_golden"."cov_disc_p0"
(person_id, entry_no, value)
WITH wd AS (
  SELECT i.person_id, i.entry_no, i.index_date AS day0, i.index_date + $1::integer AS w_lo, least(i.index_date + $2::integer, least((SELECT p.death_date FROM "person_p0" p WHERE p.person_id = i.person_id AND p.data_version <= $3::bigint), (SELECT s.end_date FROM "study_golden"."spells_p0" s WHERE s.person_id = i.person_id AND s.start_date <= i.index_date AND (s.end_date IS NULL OR s.end_date >= i.index_date)))) AS w_hi, greatest(0, least(i.index_date + $2::integer, least((SELECT p.death_date FROM "person_p0" p WHERE p.person_id = i.person_id AND p.data_version <= $3::bigint), (SELECT s.end_date FROM "study_golden"."spells_p0" s WHERE s.person_id = i.person_id AND s.start_date <= i.index_date AND (s.end_date IS NULL OR s.end_date >= i.index_date)))) - (i.index_date + $1::integer) + 1) AS w_days
  FROM "study_golden"."cohort_p0" i
), d AS (
  SELECT x.person_id, x.entry_no, x.day0, x.w_lo, x.w_hi, o.start_date, o.record_id,
         greatest(1, ceil(o.ddd / coalesce(o.daily_ddd, 1)))::integer AS days
  FROM wd x
  JOIN "study_golden"."ev_ace_p0" o ON o.person_id = x.person_id
), s AS (
  SELECT d.*, sum(d.days) OVER w AS cum
  FROM d
  WINDOW w AS (PARTITION BY d.person_id, d.entry_no ORDER BY d.start_date, d.record_id ROWS UNBOUNDED PRECEDING)
), e AS (
  SELECT s.*, max(s.start_date - (s.cum - s.days)::integer) OVER w + (s.cum - 1)::integer AS cover_end
  FROM s
  WINDOW w AS (PARTITION BY s.person_id, s.entry_no ORDER BY s.start_date, s.record_id ROWS UNBOUNDED PRECEDING)
), l AS (
  SELECT e.*, e.cover_end - e.days + 1 AS supply_start,
         max(e.cover_end) OVER (PARTITION BY e.person_id, e.entry_no ORDER BY e.start_date, e.record_id
                                ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS prev_end
  FROM e
), g AS (
  SELECT l.*, sum(CASE WHEN l.prev_end IS NULL OR l.supply_start - l.prev_end - 1 > $4::integer THEN 1 ELSE 0 END)
                OVER (PARTITION BY l.person_id, l.entry_no ORDER BY l.start_date, l.record_id ROWS UNBOUNDED PRECEDING) AS episode
  FROM l
), ep AS (
  SELECT g.person_id, g.entry_no, g.day0, g.w_lo, g.w_hi, min(g.supply_start) AS first_day, max(g.cover_end) AS last_day
  FROM g
  GROUP BY g.person_id, g.entry_no, g.day0, g.w_lo, g.w_hi, g.episode
), a AS (
  SELECT x.person_id, x.entry_no, (x.w_lo IS NULL OR x.last_day + $4::integer >= x.w_lo) AND (x.w_hi IS NULL OR x.last_day + $4::integer <= x.w_hi) AS v FROM ep x WHERE x.first_day <= x.day0 AND x.day0 <= x.last_day
)
SELECT i.person_id, i.entry_no, a.v
FROM wd i
LEFT JOIN a ON a.person_id = i.person_id AND a.entry_no = i.entry_no;

-- step cov_sw_p0 (covariate) after cohort_p0, spells_p0, ev_ace_p0, ev_arb_p0
-- $1 = 0
-- $2 = 89
-- $3 = 7
-- $4 = 10
SET LOCAL jit = off;
CREATE TABLE "study_golden"."cov_sw_p0" (
person_id bigint NOT NULL,
entry_no integer NOT NULL,
value boolean,
PRIMARY KEY (person_id, entry_no)
);
INSERT INTO "study_golden"."cov_sw_p0"
(person_id, entry_no, value)
WITH wd AS (
  SELECT i.person_id, i.entry_no, i.index_date AS day0, i.index_date + $1::integer AS w_lo, least(i.index_date + $2::integer, least((SELECT p.death_date FROM "person_p0" p WHERE p.person_id = i.person_id AND p.data_version <= $3::bigint), (SELECT s.end_date FROM "study_golden"."spells_p0" s WHERE s.person_id = i.person_id AND s.start_date <= i.index_date AND (s.end_date IS NULL OR s.end_date >= i.index_date)))) AS w_hi, greatest(0, least(i.index_date + $2::integer, least((SELECT p.death_date FROM "person_p0" p WHERE p.person_id = i.person_id AND p.data_version <= $3::bigint), (SELECT s.end_date FROM "study_golden"."spells_p0" s WHERE s.person_id = i.person_id AND s.start_date <= i.index_date AND (s.end_date IS NULL OR s.end_date >= i.index_date)))) - (i.index_date + $1::integer) + 1) AS w_days
  FROM "study_golden"."cohort_p0" i
), d AS (
  SELECT x.person_id, x.entry_no, x.day0, x.w_lo, x.w_hi, o.start_date, o.record_id,
         greatest(1, ceil(o.ddd / coalesce(o.daily_ddd, 1)))::integer AS days
  FROM wd x
  JOIN "study_golden"."ev_ace_p0" o ON o.person_id = x.person_id
), s AS (
  SELECT d.*, sum(d.days) OVER w AS cum
  FROM d
  WINDOW w AS (PARTITION BY d.person_id, d.entry_no ORDER BY d.start_date, d.record_id ROWS UNBOUNDED PRECEDING)
), e AS (
  SELECT s.*, max(s.start_date - (s.cum - s.days)::integer) OVER w + (s.cum - 1)::integer AS cover_end
  FROM s
  WINDOW w AS (PARTITION BY s.person_id, s.entry_no ORDER BY s.start_date, s.record_id ROWS UNBOUNDED PRECEDING)
), l AS (
  SELECT e.*, e.cover_end - e.days + 1 AS supply_start,
         max(e.cover_end) OVER (PARTITION BY e.person_id, e.entry_no ORDER BY e.start_date, e.record_id
                                ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS prev_end
  FROM e
), g AS (
  SELECT l.*, sum(CASE WHEN l.prev_end IS NULL OR l.supply_start - l.prev_end - 1 > $4::integer THEN 1 ELSE 0 END)
                OVER (PARTITION BY l.person_id, l.entry_no ORDER BY l.start_date, l.record_id ROWS UNBOUNDED PRECEDING) AS episode
  FROM l
), ep AS (
  SELECT g.person_id, g.entry_no, g.day0, g.w_lo, g.w_hi, min(g.supply_start) AS first_day, max(g.cover_end) AS last_day
  FROM g
  GROUP BY g.person_id, g.entry_no, g.day0, g.w_lo, g.w_hi, g.episode
), a AS (
  SELECT x.person_id, x.entry_no, EXISTS (SELECT 1 FROM "study_golden"."ev_arb_p0" o
               WHERE o.person_id = x.person_id AND o.start_date >= x.first_day AND o.start_date <= x.last_day + $4::integer
                 AND (x.w_lo IS NULL OR o.start_date >= x.w_lo) AND (x.w_hi IS NULL OR o.start_date <= x.w_hi)) AS v FROM ep x WHERE x.first_day <= x.day0 AND x.day0 <= x.last_day
)
SELECT i.person_id, i.entry_no, a.v
FROM wd i
LEFT JOIN a ON a.person_id = i.person_id AND a.entry_no = i.entry_no;

-- step cov_cost_p0 (covariate) after cohort_p0
-- $1 = -30
-- $2 = -1
-- $3 = 7
-- $4 = 7
SET LOCAL jit = off;
CREATE TABLE "study_golden"."cov_cost_p0" (
person_id bigint NOT NULL,
entry_no integer NOT NULL,
value double precision,
observed_days integer,
PRIMARY KEY (person_id, entry_no)
);
INSERT INTO "study_golden"."cov_cost_p0"
(person_id, entry_no, value, observed_days)
SELECT i.person_id, i.entry_no,
       coalesce((SELECT sum(x."tariff") FROM "sdo_p0" x WHERE x.person_id = i.person_id AND x.data_version <= $3::bigint AND x."admission_date" >= i.index_date + $1::integer AND x."admission_date" <= i.index_date + $2::integer), 0)
       + coalesce((SELECT sum(x."tariff") FROM "outpatient_p0" x WHERE x.person_id = i.person_id AND x.data_version <= $4::bigint AND x."service_date" >= i.index_date + $1::integer AND x."service_date" <= i.index_date + $2::integer), 0),
       greatest(0, i.index_date + $2::integer - (i.index_date + $1::integer) + 1)
FROM "study_golden"."cohort_p0" i;

-- step cov_cost_all_p0 (covariate) after cohort_p0
-- $1 = -30
-- $2 = -1
-- $3 = 7
-- $4 = 7
-- $5 = 7
-- $6 = 7
SET LOCAL jit = off;
CREATE TABLE "study_golden"."cov_cost_all_p0" (
person_id bigint NOT NULL,
entry_no integer NOT NULL,
value double precision,
observed_days integer,
PRIMARY KEY (person_id, entry_no)
);
INSERT INTO "study_golden"."cov_cost_all_p0"
(person_id, entry_no, value, observed_days)
SELECT i.person_id, i.entry_no,
       coalesce((SELECT sum(x."tariff") FROM "sdo_p0" x WHERE x.person_id = i.person_id AND x.data_version <= $3::bigint AND x."admission_date" >= i.index_date + $1::integer AND x."admission_date" <= i.index_date + $2::integer), 0)
       + coalesce((SELECT sum(x."cost") FROM "pharmacy_p0" x WHERE x.person_id = i.person_id AND x.data_version <= $4::bigint AND x."dispensing_date" >= i.index_date + $1::integer AND x."dispensing_date" <= i.index_date + $2::integer), 0)
       + coalesce((SELECT sum(x."cost") FROM "direct_distribution_p0" x WHERE x.person_id = i.person_id AND x.data_version <= $5::bigint AND x."dispensing_date" >= i.index_date + $1::integer AND x."dispensing_date" <= i.index_date + $2::integer), 0)
       + coalesce((SELECT sum(x."tariff") FROM "outpatient_p0" x WHERE x.person_id = i.person_id AND x.data_version <= $6::bigint AND x."service_date" >= i.index_date + $1::integer AND x."service_date" <= i.index_date + $2::integer), 0),
       greatest(0, i.index_date + $2::integer - (i.index_date + $1::integer) + 1)
FROM "study_golden"."cohort_p0" i;

-- step dataset_p0 (dataset) after cohort_p0, followup_p0, cov_cu_grace_p0, cov_pdc_p0, cov_pdc_nc_p0, cov_mpr_p0, cov_dur_p0, cov_disc_p0, cov_sw_p0, cov_cost_p0, cov_cost_all_p0
SET LOCAL jit = off;
CREATE TABLE "study_golden"."dataset_p0" (
person_id bigint NOT NULL,
entry_no integer NOT NULL,
index_date date NOT NULL,
index_group text,
fu_start date,
fu_end date,
end_reason text,
"cov_cu_grace" boolean,
"cov_pdc" double precision,
"obs_pdc" integer,
"cov_pdc_nc" double precision,
"obs_pdc_nc" integer,
"cov_mpr" double precision,
"obs_mpr" integer,
"cov_dur" double precision,
"cov_disc" boolean,
"cov_sw" boolean,
"cov_cost" double precision,
"obs_cost" integer,
"cov_cost_all" double precision,
"obs_cost_all" integer,
PRIMARY KEY (person_id, entry_no)
);
INSERT INTO "study_golden"."dataset_p0"
(person_id, entry_no, index_date, index_group, fu_start, fu_end, end_reason, "cov_cu_grace", "cov_pdc", "obs_pdc", "cov_pdc_nc", "obs_pdc_nc", "cov_mpr", "obs_mpr", "cov_dur", "cov_disc", "cov_sw", "cov_cost", "obs_cost", "cov_cost_all", "obs_cost_all")
SELECT i.person_id, i.entry_no, i.index_date, i.index_group, f.fu_start, f.fu_end, f.end_reason, v0.value, v1.value, v1.observed_days, v2.value, v2.observed_days, v3.value, v3.observed_days, v4.value, v5.value, v6.value, v7.value, v7.observed_days, v8.value, v8.observed_days
FROM "study_golden"."cohort_p0" i
LEFT JOIN "study_golden"."followup_p0" f ON f.person_id = i.person_id AND f.entry_no = i.entry_no
JOIN "study_golden"."cov_cu_grace_p0" v0 ON v0.person_id = i.person_id AND v0.entry_no = i.entry_no
JOIN "study_golden"."cov_pdc_p0" v1 ON v1.person_id = i.person_id AND v1.entry_no = i.entry_no
JOIN "study_golden"."cov_pdc_nc_p0" v2 ON v2.person_id = i.person_id AND v2.entry_no = i.entry_no
JOIN "study_golden"."cov_mpr_p0" v3 ON v3.person_id = i.person_id AND v3.entry_no = i.entry_no
JOIN "study_golden"."cov_dur_p0" v4 ON v4.person_id = i.person_id AND v4.entry_no = i.entry_no
JOIN "study_golden"."cov_disc_p0" v5 ON v5.person_id = i.person_id AND v5.entry_no = i.entry_no
JOIN "study_golden"."cov_sw_p0" v6 ON v6.person_id = i.person_id AND v6.entry_no = i.entry_no
JOIN "study_golden"."cov_cost_p0" v7 ON v7.person_id = i.person_id AND v7.entry_no = i.entry_no
JOIN "study_golden"."cov_cost_all_p0" v8 ON v8.person_id = i.person_id AND v8.entry_no = i.entry_no;
