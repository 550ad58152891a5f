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
-- $1 = []string{"C09C%"}
-- $2 = 2
-- $3 = 7
-- $4 = 7
-- $5 = []string{"C09C%"}
-- $6 = []string{"C09C%"}
-- $7 = 2
-- $8 = 7
-- $9 = 7
-- $10 = []string{"C09C%"}
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
       CASE WHEN ((x.atc LIKE ANY($1::text[]))) THEN $2::double precision END
FROM "pharmacy_p0" x
LEFT JOIN "dict_product" v ON v.aic = x.aic AND v.data_version <= $3::bigint
WHERE x.data_version <= $4::bigint
  AND ((x.atc LIKE ANY($5::text[])))
ORDER BY x.person_id, x.event_id, (v.valid_from <= x.dispensing_date AND (v.valid_to IS NULL OR x.dispensing_date <= v.valid_to)) DESC, v.valid_from DESC)
UNION ALL
(SELECT DISTINCT ON (x.person_id, x.event_id)
       x.person_id, 'D' || x.event_id, x.dispensing_date, x.dispensing_date,
       x.packs * coalesce(v.ddd_per_pack, 1),
       CASE WHEN ((x.atc LIKE ANY($6::text[]))) THEN $7::double precision END
FROM "direct_distribution_p0" x
LEFT JOIN "dict_product" v ON v.aic = x.aic AND v.data_version <= $8::bigint
WHERE x.data_version <= $9::bigint
  AND ((x.atc LIKE ANY($10::text[])))
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

-- step candidates_p0 (index) after ev_ace_p0, ev_arb_p0, spells_p0
-- $1 = "A"
-- $2 = "B"
-- $3 = "2015-01-01"
-- $4 = "2015-12-31"
-- $5 = 0
-- $6 = 0
-- $7 = 3
-- $8 = 7
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
  SELECT o.person_id, o.start_date, o.end_date, $1::text AS grp, 0 AS ev FROM "study_golden"."ev_ace_p0" o
  UNION ALL
  SELECT o.person_id, o.start_date, o.end_date, $2::text AS grp, 1 AS ev FROM "study_golden"."ev_arb_p0" o
), q AS MATERIALIZED (
  SELECT o.person_id, o.start_date, o.end_date, o.grp,
         CASE WHEN (o.start_date BETWEEN $3::date AND $4::date) IS NOT TRUE THEN 0
              WHEN ((p.death_date IS NULL OR p.death_date >= o.start_date)) IS NOT TRUE THEN 1
              WHEN (sp.start_date <= o.start_date - $5::integer AND (sp.end_date IS NULL OR sp.end_date >= o.start_date + $6::integer)) IS NOT TRUE THEN 2 ELSE 3 END AS passed
  FROM (SELECT o.*, 0 AS prior FROM occ o) o
  JOIN "person_p0" p ON p.person_id = o.person_id AND p.data_version <= $8::bigint
  LEFT JOIN "study_golden"."spells_p0" sp ON sp.person_id = o.person_id AND sp.start_date <= o.start_date AND (sp.end_date IS NULL OR sp.end_date >= o.start_date)
)
SELECT q.person_id, q.start_date,
       CASE WHEN bool_or(q.end_date IS NULL) FILTER (WHERE q.passed = $7::integer) THEN NULL
            ELSE max(q.end_date) FILTER (WHERE q.passed = $7::integer) END,
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
-- $4 = "enrolled on day 0"
-- $5 = "first qualifying day of each person"
-- $6 = "one exposure group on day 0"
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
  SELECT sum(x.e0) AS e0, sum(x.p0) AS p0, sum(x.e1) AS e1, sum(x.p1) AS p1
  FROM (SELECT i.person_id, count(*) FILTER (WHERE true) AS e0, (bool_or(true) IS TRUE)::integer AS p0,
               count(*) FILTER (WHERE NOT i.two_groups) AS e1, (bool_or(NOT i.two_groups) IS TRUE)::integer AS p1
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
SELECT 4, $5::text, (SELECT coalesce(t.p0, 0) FROM t)::bigint, (SELECT coalesce(t.e0, 0) FROM t)::bigint
UNION ALL
SELECT 5, $6::text, (SELECT coalesce(t.p1, 0) FROM t)::bigint, (SELECT coalesce(t.e1, 0) FROM t)::bigint;

-- step discontinuation_p0 (discontinuation) after cohort_p0, ev_ace_p0, ev_arb_p0
-- $1 = "A"
-- $2 = "B"
-- $3 = 10
SET LOCAL jit = off;
CREATE TABLE "study_golden"."discontinuation_p0" (
person_id bigint NOT NULL,
entry_no integer NOT NULL,
end_date date NOT NULL,
PRIMARY KEY (person_id, entry_no)
);
INSERT INTO "study_golden"."discontinuation_p0"
(person_id, entry_no, end_date)
WITH d AS (
  SELECT c.person_id, c.entry_no, c.index_date, o.start_date, o.record_id,
         greatest(1, ceil(o.ddd / coalesce(o.daily_ddd, 1)))::integer AS days
  FROM "study_golden"."cohort_p0" c
  JOIN (SELECT o.person_id, o.record_id, o.start_date, o.ddd, o.daily_ddd, $1::text AS grp FROM "study_golden"."ev_ace_p0" o
        UNION ALL SELECT o.person_id, o.record_id, o.start_date, o.ddd, o.daily_ddd, $2::text AS grp FROM "study_golden"."ev_arb_p0" o) o ON o.person_id = c.person_id AND o.grp = c.index_group
), s AS (
  SELECT d.*, sum(d.days) OVER w AS cum
  FROM d
  WINDOW w AS (PARTITION BY d.person_id, d.entry_no ORDER BY d.start_date, d.record_id ROWS UNBOUNDED PRECEDING)
), e AS (
  SELECT s.*, max(s.start_date - (s.cum - s.days)::integer) OVER w + (s.cum - 1)::integer AS cover_end
  FROM s
  WINDOW w AS (PARTITION BY s.person_id, s.entry_no ORDER BY s.start_date, s.record_id ROWS UNBOUNDED PRECEDING)
), l AS (
  SELECT e.*, lag(e.cover_end) OVER (PARTITION BY e.person_id, e.entry_no ORDER BY e.start_date, e.record_id) AS prev_end
  FROM e
), ep AS (
  SELECT l.*, sum(CASE WHEN l.prev_end IS NULL OR l.start_date - l.prev_end - 1 > $3::integer THEN 1 ELSE 0 END)
                OVER (PARTITION BY l.person_id, l.entry_no ORDER BY l.start_date, l.record_id ROWS UNBOUNDED PRECEDING) AS episode
  FROM l
), first AS (
  SELECT ep.person_id, ep.entry_no, min(ep.episode) FILTER (WHERE ep.start_date >= ep.index_date) AS episode
  FROM ep
  GROUP BY ep.person_id, ep.entry_no
)
SELECT ep.person_id, ep.entry_no, max(ep.cover_end) + $3::integer
FROM ep
JOIN first f ON f.person_id = ep.person_id AND f.entry_no = ep.entry_no AND f.episode = ep.episode
GROUP BY ep.person_id, ep.entry_no;

-- step followup_p0 (followup) after cohort_p0, ev_ace_p0, ev_arb_p0, discontinuation_p0, spells_p0
-- $1 = 7
-- $2 = "A"
-- $3 = "B"
-- $4 = "2016-12-31"
-- $5 = "death"
-- $6 = "switch"
-- $7 = "discontinuation"
-- $8 = "enrolment_end"
-- $9 = "study_end"
-- $10 = 1
-- $11 = 1
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
  SELECT c.person_id, c.entry_no, c.index_date, c.index_group, c.index_date + $10::integer AS fu_start
  FROM "study_golden"."cohort_p0" c
  WHERE c.index_date + $11::integer IS NOT NULL
), x0 AS (
  SELECT y.person_id, y.entry_no, min(y.start_date) AS d
  FROM (SELECT f.person_id, f.entry_no, o.start_date FROM f JOIN "study_golden"."ev_ace_p0" o ON o.person_id = f.person_id WHERE o.start_date >= f.fu_start AND f.index_group IS DISTINCT FROM $2::text
        UNION ALL
        SELECT f.person_id, f.entry_no, o.start_date FROM f JOIN "study_golden"."ev_arb_p0" o ON o.person_id = f.person_id WHERE o.start_date >= f.fu_start AND f.index_group IS DISTINCT FROM $3::text) y
  GROUP BY y.person_id, y.entry_no
), e0 AS (
  SELECT f.*,
         p.death_date AS e0,
         x0.d AS e1,
         dc.end_date AS e2,
         s.end_date AS e3,
         $4::date AS e4
  FROM f
  LEFT JOIN "person_p0" p ON p.person_id = f.person_id AND p.data_version <= $1::bigint
  LEFT JOIN "study_golden"."discontinuation_p0" dc ON dc.person_id = f.person_id AND dc.entry_no = f.entry_no
  LEFT JOIN "study_golden"."spells_p0" s ON s.person_id = f.person_id AND s.start_date <= f.index_date AND (s.end_date IS NULL OR s.end_date >= f.index_date)
  LEFT JOIN x0 ON x0.person_id = f.person_id AND x0.entry_no = f.entry_no
), e AS (
  SELECT e0.*, least(e0.e0, e0.e1, e0.e2, e0.e3, e0.e4) AS fu_end FROM e0
)
SELECT e.person_id, e.entry_no, e.fu_start, e.fu_end, CASE WHEN e.e0 = e.fu_end THEN $5::text WHEN e.e1 = e.fu_end THEN $6::text WHEN e.e2 = e.fu_end THEN $7::text WHEN e.e3 = e.fu_end THEN $8::text WHEN e.e4 = e.fu_end THEN $9::text END
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
