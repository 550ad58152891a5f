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

-- step ev_adm_p0 (event)
-- $1 = 7
SET LOCAL jit = off;
CREATE TABLE "study_golden"."ev_adm_p0" (
person_id bigint NOT NULL,
record_id text NOT NULL,
start_date date NOT NULL,
end_date date,
ddd double precision,
daily_ddd double precision,
PRIMARY KEY (person_id, record_id)
);
INSERT INTO "study_golden"."ev_adm_p0"
(person_id, record_id, start_date, end_date, ddd, daily_ddd)
SELECT s.person_id, s.discharge_id, s.admission_date, s.discharge_date, NULL::double precision, NULL::double precision
FROM "sdo_p0" s
WHERE s.data_version <= $1::bigint;

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
-- $1 = "2015-01-01"
-- $2 = "2015-01-01"
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

-- step followup_p0 (followup) after cohort_p0, ev_adm_p0, spells_p0
-- $1 = 7
-- $2 = "2015-04-11"
-- $3 = "outcome"
-- $4 = "death"
-- $5 = "enrolment_end"
-- $6 = "study_end"
-- $7 = 1
-- $8 = 1
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
  SELECT c.person_id, c.entry_no, c.index_date, c.index_group, c.index_date + $7::integer AS fu_start
  FROM "study_golden"."cohort_p0" c
  WHERE c.index_date + $8::integer IS NOT NULL
), x0 AS (
  SELECT y.person_id, y.entry_no, min(y.start_date) AS d
  FROM (SELECT f.person_id, f.entry_no, o.start_date FROM f JOIN "study_golden"."ev_adm_p0" o ON o.person_id = f.person_id WHERE o.start_date >= f.fu_start) y
  GROUP BY y.person_id, y.entry_no
), e0 AS (
  SELECT f.*,
         x0.d AS e0,
         p.death_date AS e1,
         s.end_date AS e2,
         $2::date AS e3
  FROM f
  LEFT JOIN "person_p0" p ON p.person_id = f.person_id AND p.data_version <= $1::bigint
  LEFT JOIN "study_golden"."spells_p0" s ON s.person_id = f.person_id AND s.start_date <= f.index_date AND (s.end_date IS NULL OR s.end_date >= f.index_date)
  LEFT JOIN x0 ON x0.person_id = f.person_id AND x0.entry_no = f.entry_no
), e AS (
  SELECT e0.*, least(e0.e0, e0.e1, e0.e2, e0.e3) AS fu_end FROM e0
)
SELECT e.person_id, e.entry_no, e.fu_start, e.fu_end, CASE WHEN e.e0 = e.fu_end THEN $3::text WHEN e.e1 = e.fu_end THEN $4::text WHEN e.e2 = e.fu_end THEN $5::text WHEN e.e3 = e.fu_end THEN $6::text END
FROM e
WHERE e.fu_end IS NULL OR e.fu_end >= e.fu_start;

-- step outcome_adm_p0 (outcome) after followup_p0, ev_adm_p0
SET LOCAL jit = off;
CREATE TABLE "study_golden"."outcome_adm_p0" (
person_id bigint NOT NULL,
entry_no integer NOT NULL,
event boolean NOT NULL,
event_date date,
time integer,
n_events integer NOT NULL,
PRIMARY KEY (person_id, entry_no)
);
INSERT INTO "study_golden"."outcome_adm_p0"
(person_id, entry_no, event, event_date, time, n_events)
SELECT f.person_id, f.entry_no, x.first IS NOT NULL, x.first,
       coalesce(x.first, f.fu_end) - f.fu_start + 1, x.n
FROM "study_golden"."followup_p0" f
CROSS JOIN LATERAL (
  SELECT min(y.start_date) AS first, count(DISTINCT y.start_date)::integer AS n
  FROM (SELECT o.start_date FROM "study_golden"."ev_adm_p0" o WHERE o.person_id = f.person_id) y
  WHERE y.start_date >= f.fu_start AND (f.fu_end IS NULL OR y.start_date <= f.fu_end)
) x;

-- step tdcov_cu_p0 (timedep) after followup_p0, ev_ace_p0
-- $1 = 0
SET LOCAL jit = off;
CREATE TABLE "study_golden"."tdcov_cu_p0" (
person_id bigint NOT NULL,
entry_no integer NOT NULL,
day date NOT NULL,
value boolean,
PRIMARY KEY (person_id, entry_no, day)
);
INSERT INTO "study_golden"."tdcov_cu_p0"
(person_id, entry_no, day, value)
WITH d AS (
  SELECT f.person_id, f.entry_no, o.start_date, o.record_id,
         greatest(1, ceil(o.ddd / coalesce(o.daily_ddd, 1)))::integer AS days
  FROM "study_golden"."followup_p0" f
  JOIN "study_golden"."ev_ace_p0" o ON o.person_id = f.person_id AND (f.fu_end IS NULL OR o.start_date <= f.fu_end)
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
), ep AS (
  SELECT l.*, sum(CASE WHEN l.prev_end IS NULL OR l.supply_start - l.prev_end - 1 > $1::integer THEN 1 ELSE 0 END)
                OVER (PARTITION BY l.person_id, l.entry_no ORDER BY l.start_date, l.record_id ROWS UNBOUNDED PRECEDING) AS episode
  FROM l
), r AS (
  SELECT ep.person_id, ep.entry_no, min(ep.supply_start) AS first_day, max(ep.cover_end) AS last_day
  FROM ep
  GROUP BY ep.person_id, ep.entry_no, ep.episode
), ux AS (
  SELECT f.person_id, f.entry_no, f.fu_start, f.fu_end, f.fu_start AS day, 0 AS delta
  FROM "study_golden"."followup_p0" f
  UNION ALL
  SELECT f.person_id, f.entry_no, f.fu_start, f.fu_end, y.day, y.delta
  FROM "study_golden"."followup_p0" f
  JOIN r ON r.person_id = f.person_id AND r.entry_no = f.entry_no
  CROSS JOIN LATERAL (VALUES (r.first_day, 1), (r.last_day + 1, -1)) y(day, delta)
), us AS (
  SELECT ux.*, sum(ux.delta) OVER (PARTITION BY ux.person_id, ux.entry_no ORDER BY ux.day RANGE UNBOUNDED PRECEDING) AS inside
  FROM ux
), v AS (
  SELECT DISTINCT us.person_id, us.entry_no, us.day, us.inside > 0 AS value
  FROM us
  WHERE us.day = us.fu_start OR (us.day > us.fu_start AND (us.fu_end IS NULL OR us.day <= us.fu_end))
), w AS (
  SELECT v.*, row_number() OVER o AS k, lag(v.value) OVER o AS prev
  FROM v
  WINDOW o AS (PARTITION BY v.person_id, v.entry_no ORDER BY v.day)
)
SELECT w.person_id, w.entry_no, w.day, w.value
FROM w
WHERE w.k = 1 OR w.value IS DISTINCT FROM w.prev;

-- step tdcov_statin_any_p0 (timedep) after followup_p0, ev_statin_p0
-- $1 = 0
SET LOCAL jit = off;
CREATE TABLE "study_golden"."tdcov_statin_any_p0" (
person_id bigint NOT NULL,
entry_no integer NOT NULL,
day date NOT NULL,
value boolean,
PRIMARY KEY (person_id, entry_no, day)
);
INSERT INTO "study_golden"."tdcov_statin_any_p0"
(person_id, entry_no, day, value)
WITH ux AS (
  SELECT f.person_id, f.entry_no, f.fu_start, f.fu_end, f.fu_start AS day, 0 AS delta
  FROM "study_golden"."followup_p0" f
  UNION ALL
  SELECT f.person_id, f.entry_no, f.fu_start, f.fu_end, y.day, y.delta
  FROM "study_golden"."followup_p0" f
  JOIN "study_golden"."ev_statin_p0" o ON o.person_id = f.person_id
  CROSS JOIN LATERAL (VALUES (o.start_date - $1::integer, 1), (NULL::date, -1)) y(day, delta)
  WHERE y.day IS NOT NULL AND (f.fu_end IS NULL OR y.day <= f.fu_end)
), us AS (
  SELECT ux.*, sum(ux.delta) OVER (PARTITION BY ux.person_id, ux.entry_no ORDER BY ux.day RANGE UNBOUNDED PRECEDING) AS n
  FROM ux
), v AS (
  SELECT DISTINCT us.person_id, us.entry_no, us.day, us.n > 0 AS value
  FROM us
  WHERE us.day = us.fu_start OR (us.day > us.fu_start AND (us.fu_end IS NULL OR us.day <= us.fu_end))
), w AS (
  SELECT v.*, row_number() OVER o AS k, lag(v.value) OVER o AS prev
  FROM v
  WINDOW o AS (PARTITION BY v.person_id, v.entry_no ORDER BY v.day)
)
SELECT w.person_id, w.entry_no, w.day, w.value
FROM w
WHERE w.k = 1 OR w.value IS DISTINCT FROM w.prev;

-- step tdcov_statin_n_p0 (timedep) after followup_p0, ev_statin_p0
-- $1 = -30
-- $2 = -1
SET LOCAL jit = off;
CREATE TABLE "study_golden"."tdcov_statin_n_p0" (
person_id bigint NOT NULL,
entry_no integer NOT NULL,
day date NOT NULL,
value double precision,
PRIMARY KEY (person_id, entry_no, day)
);
INSERT INTO "study_golden"."tdcov_statin_n_p0"
(person_id, entry_no, day, value)
WITH ux AS (
  SELECT f.person_id, f.entry_no, f.fu_start, f.fu_end, f.fu_start AS day, 0 AS delta
  FROM "study_golden"."followup_p0" f
  UNION ALL
  SELECT f.person_id, f.entry_no, f.fu_start, f.fu_end, y.day, y.delta
  FROM "study_golden"."followup_p0" f
  JOIN "study_golden"."ev_statin_p0" o ON o.person_id = f.person_id
  CROSS JOIN LATERAL (VALUES (o.start_date - $2::integer, 1), (o.start_date - $1::integer + 1, -1)) y(day, delta)
  WHERE y.day IS NOT NULL AND (f.fu_end IS NULL OR y.day <= f.fu_end)
), us AS (
  SELECT ux.*, sum(ux.delta) OVER (PARTITION BY ux.person_id, ux.entry_no ORDER BY ux.day RANGE UNBOUNDED PRECEDING) AS n
  FROM ux
), v AS (
  SELECT DISTINCT us.person_id, us.entry_no, us.day, us.n::double precision AS value
  FROM us
  WHERE us.day = us.fu_start OR (us.day > us.fu_start AND (us.fu_end IS NULL OR us.day <= us.fu_end))
), w AS (
  SELECT v.*, row_number() OVER o AS k, lag(v.value) OVER o AS prev
  FROM v
  WINDOW o AS (PARTITION BY v.person_id, v.entry_no ORDER BY v.day)
)
SELECT w.person_id, w.entry_no, w.day, w.value
FROM w
WHERE w.k = 1 OR w.value IS DISTINCT FROM w.prev;

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

-- step tdcov_statin_class_p0 (timedep) after followup_p0, tdcov_statin_n_p0
-- $1 = 1
-- $2 = "none"
-- $3 = 2
-- $4 = "one"
-- $5 = "two+"
SET LOCAL jit = off;
CREATE TABLE "study_golden"."tdcov_statin_class_p0" (
person_id bigint NOT NULL,
entry_no integer NOT NULL,
day date NOT NULL,
value text,
PRIMARY KEY (person_id, entry_no, day)
);
INSERT INTO "study_golden"."tdcov_statin_class_p0"
(person_id, entry_no, day, value)
WITH c AS (
  SELECT t.person_id, t.entry_no, t.day FROM "study_golden"."tdcov_statin_n_p0" t
), v AS (
  SELECT c.person_id, c.entry_no, c.day, CASE WHEN v0.value < $1::double precision THEN $2::text WHEN v0.value < $3::double precision THEN $4::text WHEN v0.value IS NOT NULL THEN $5::text END AS value
  FROM c
  CROSS JOIN LATERAL (SELECT t.value FROM "study_golden"."tdcov_statin_n_p0" t WHERE t.person_id = c.person_id AND t.entry_no = c.entry_no AND t.day <= c.day ORDER BY t.day DESC LIMIT 1) v0
), w AS (
  SELECT v.*, row_number() OVER o AS k, lag(v.value) OVER o AS prev
  FROM v
  WINDOW o AS (PARTITION BY v.person_id, v.entry_no ORDER BY v.day)
)
SELECT w.person_id, w.entry_no, w.day, w.value
FROM w
WHERE w.k = 1 OR w.value IS DISTINCT FROM w.prev;

-- step tdcov_agg_p0 (timedep) after followup_p0, tdcov_statin_class_p0
-- $1 = []string{"one", "two+"}
-- $2 = "some"
SET LOCAL jit = off;
CREATE TABLE "study_golden"."tdcov_agg_p0" (
person_id bigint NOT NULL,
entry_no integer NOT NULL,
day date NOT NULL,
value text,
PRIMARY KEY (person_id, entry_no, day)
);
INSERT INTO "study_golden"."tdcov_agg_p0"
(person_id, entry_no, day, value)
WITH c AS (
  SELECT t.person_id, t.entry_no, t.day FROM "study_golden"."tdcov_statin_class_p0" t
), v AS (
  SELECT c.person_id, c.entry_no, c.day, CASE WHEN v0.value = ANY($1::text[]) THEN $2::text ELSE v0.value END AS value
  FROM c
  CROSS JOIN LATERAL (SELECT t.value FROM "study_golden"."tdcov_statin_class_p0" t WHERE t.person_id = c.person_id AND t.entry_no = c.entry_no AND t.day <= c.day ORDER BY t.day DESC LIMIT 1) v0
), w AS (
  SELECT v.*, row_number() OVER o AS k, lag(v.value) OVER o AS prev
  FROM v
  WINDOW o AS (PARTITION BY v.person_id, v.entry_no ORDER BY v.day)
)
SELECT w.person_id, w.entry_no, w.day, w.value
FROM w
WHERE w.k = 1 OR w.value IS DISTINCT FROM w.prev;

-- step tdcov_both_p0 (timedep) after followup_p0, tdcov_cu_p0, tdcov_statin_any_p0
SET LOCAL jit = off;
CREATE TABLE "study_golden"."tdcov_both_p0" (
person_id bigint NOT NULL,
entry_no integer NOT NULL,
day date NOT NULL,
value boolean,
PRIMARY KEY (person_id, entry_no, day)
);
INSERT INTO "study_golden"."tdcov_both_p0"
(person_id, entry_no, day, value)
WITH c AS (
  SELECT t.person_id, t.entry_no, t.day FROM "study_golden"."tdcov_cu_p0" t
  UNION
  SELECT t.person_id, t.entry_no, t.day FROM "study_golden"."tdcov_statin_any_p0" t
), v AS (
  SELECT c.person_id, c.entry_no, c.day, (v0.value AND v1.value) AS value
  FROM c
  CROSS JOIN LATERAL (SELECT t.value FROM "study_golden"."tdcov_cu_p0" t WHERE t.person_id = c.person_id AND t.entry_no = c.entry_no AND t.day <= c.day ORDER BY t.day DESC LIMIT 1) v0
  CROSS JOIN LATERAL (SELECT t.value FROM "study_golden"."tdcov_statin_any_p0" t WHERE t.person_id = c.person_id AND t.entry_no = c.entry_no AND t.day <= c.day ORDER BY t.day DESC LIMIT 1) v1
), w AS (
  SELECT v.*, row_number() OVER o AS k, lag(v.value) OVER o AS prev
  FROM v
  WINDOW o AS (PARTITION BY v.person_id, v.entry_no ORDER BY v.day)
)
SELECT w.person_id, w.entry_no, w.day, w.value
FROM w
WHERE w.k = 1 OR w.value IS DISTINCT FROM w.prev;

-- step tdcov_load_p0 (timedep) after followup_p0, tdcov_cu_p0, tdcov_statin_n_p0
SET LOCAL jit = off;
CREATE TABLE "study_golden"."tdcov_load_p0" (
person_id bigint NOT NULL,
entry_no integer NOT NULL,
day date NOT NULL,
value double precision,
PRIMARY KEY (person_id, entry_no, day)
);
INSERT INTO "study_golden"."tdcov_load_p0"
(person_id, entry_no, day, value)
WITH c AS (
  SELECT t.person_id, t.entry_no, t.day FROM "study_golden"."tdcov_cu_p0" t
  UNION
  SELECT t.person_id, t.entry_no, t.day FROM "study_golden"."tdcov_statin_n_p0" t
), v AS (
  SELECT c.person_id, c.entry_no, c.day, (v0.value::integer::double precision + v1.value) AS value
  FROM c
  CROSS JOIN LATERAL (SELECT t.value FROM "study_golden"."tdcov_cu_p0" t WHERE t.person_id = c.person_id AND t.entry_no = c.entry_no AND t.day <= c.day ORDER BY t.day DESC LIMIT 1) v0
  CROSS JOIN LATERAL (SELECT t.value FROM "study_golden"."tdcov_statin_n_p0" t WHERE t.person_id = c.person_id AND t.entry_no = c.entry_no AND t.day <= c.day ORDER BY t.day DESC LIMIT 1) v1
), w AS (
  SELECT v.*, row_number() OVER o AS k, lag(v.value) OVER o AS prev
  FROM v
  WINDOW o AS (PARTITION BY v.person_id, v.entry_no ORDER BY v.day)
)
SELECT w.person_id, w.entry_no, w.day, w.value
FROM w
WHERE w.k = 1 OR w.value IS DISTINCT FROM w.prev;

-- step tdcov_age_cu_p0 (timedep) after followup_p0, cov_age_p0, tdcov_cu_p0
SET LOCAL jit = off;
CREATE TABLE "study_golden"."tdcov_age_cu_p0" (
person_id bigint NOT NULL,
entry_no integer NOT NULL,
day date NOT NULL,
value double precision,
PRIMARY KEY (person_id, entry_no, day)
);
INSERT INTO "study_golden"."tdcov_age_cu_p0"
(person_id, entry_no, day, value)
WITH c AS (
  SELECT t.person_id, t.entry_no, t.day FROM "study_golden"."tdcov_cu_p0" t
), v AS (
  SELECT c.person_id, c.entry_no, c.day, (v0.value * v1.value::integer::double precision) AS value
  FROM c
  JOIN "study_golden"."cov_age_p0" v0 ON v0.person_id = c.person_id AND v0.entry_no = c.entry_no
  CROSS JOIN LATERAL (SELECT t.value FROM "study_golden"."tdcov_cu_p0" t WHERE t.person_id = c.person_id AND t.entry_no = c.entry_no AND t.day <= c.day ORDER BY t.day DESC LIMIT 1) v1
), w AS (
  SELECT v.*, row_number() OVER o AS k, lag(v.value) OVER o AS prev
  FROM v
  WINDOW o AS (PARTITION BY v.person_id, v.entry_no ORDER BY v.day)
)
SELECT w.person_id, w.entry_no, w.day, w.value
FROM w
WHERE w.k = 1 OR w.value IS DISTINCT FROM w.prev;

-- step dataset_p0 (dataset) after cohort_p0, followup_p0, outcome_adm_p0, cov_age_p0
SET LOCAL jit = off;
CREATE TABLE "study_golden"."dataset_p0" (
person_id bigint NOT NULL,
entry_no integer NOT NULL,
index_date date NOT NULL,
index_group text,
fu_start date,
fu_end date,
end_reason text,
"out_adm_event" boolean,
"out_adm_time" integer,
"cov_age" double precision,
PRIMARY KEY (person_id, entry_no)
);
INSERT INTO "study_golden"."dataset_p0"
(person_id, entry_no, index_date, index_group, fu_start, fu_end, end_reason, "out_adm_event", "out_adm_time", "cov_age")
SELECT i.person_id, i.entry_no, i.index_date, i.index_group, f.fu_start, f.fu_end, f.end_reason, o0.event, o0.time, v0.value
FROM "study_golden"."cohort_p0" i
LEFT JOIN "study_golden"."followup_p0" f ON f.person_id = i.person_id AND f.entry_no = i.entry_no
LEFT JOIN "study_golden"."outcome_adm_p0" o0 ON o0.person_id = i.person_id AND o0.entry_no = i.entry_no
JOIN "study_golden"."cov_age_p0" v0 ON v0.person_id = i.person_id AND v0.entry_no = i.entry_no;

-- step episodes_p0 (episodes) after followup_p0, tdcov_cu_p0, tdcov_statin_any_p0, tdcov_statin_n_p0, tdcov_statin_class_p0, tdcov_agg_p0, tdcov_both_p0, tdcov_load_p0, tdcov_age_cu_p0
-- $1 = "outcome"
SET LOCAL jit = off;
CREATE TABLE "study_golden"."episodes_p0" (
person_id bigint NOT NULL,
entry_no integer NOT NULL,
episode_no integer NOT NULL,
start integer NOT NULL,
stop integer,
event boolean NOT NULL,
"td_cu" boolean,
"td_statin_any" boolean,
"td_statin_n" double precision,
"td_statin_class" text,
"td_agg" text,
"td_both" boolean,
"td_load" double precision,
"td_age_cu" double precision,
PRIMARY KEY (person_id, entry_no, episode_no)
);
INSERT INTO "study_golden"."episodes_p0"
(person_id, entry_no, episode_no, start, stop, event, "td_cu", "td_statin_any", "td_statin_n", "td_statin_class", "td_agg", "td_both", "td_load", "td_age_cu")
WITH c AS (
  SELECT t.person_id, t.entry_no, t.day FROM "study_golden"."tdcov_cu_p0" t
  UNION
  SELECT t.person_id, t.entry_no, t.day FROM "study_golden"."tdcov_statin_any_p0" t
  UNION
  SELECT t.person_id, t.entry_no, t.day FROM "study_golden"."tdcov_statin_n_p0" t
  UNION
  SELECT t.person_id, t.entry_no, t.day FROM "study_golden"."tdcov_statin_class_p0" t
  UNION
  SELECT t.person_id, t.entry_no, t.day FROM "study_golden"."tdcov_agg_p0" t
  UNION
  SELECT t.person_id, t.entry_no, t.day FROM "study_golden"."tdcov_both_p0" t
  UNION
  SELECT t.person_id, t.entry_no, t.day FROM "study_golden"."tdcov_load_p0" t
  UNION
  SELECT t.person_id, t.entry_no, t.day FROM "study_golden"."tdcov_age_cu_p0" t
), j AS (
  SELECT c.person_id, c.entry_no, c.day, t0.value AS v0, t0.day AS d0, t1.value AS v1, t1.day AS d1, t2.value AS v2, t2.day AS d2, t3.value AS v3, t3.day AS d3, t4.value AS v4, t4.day AS d4, t5.value AS v5, t5.day AS d5, t6.value AS v6, t6.day AS d6, t7.value AS v7, t7.day AS d7
  FROM c
  LEFT JOIN "study_golden"."tdcov_cu_p0" t0 ON t0.person_id = c.person_id AND t0.entry_no = c.entry_no AND t0.day = c.day
  LEFT JOIN "study_golden"."tdcov_statin_any_p0" t1 ON t1.person_id = c.person_id AND t1.entry_no = c.entry_no AND t1.day = c.day
  LEFT JOIN "study_golden"."tdcov_statin_n_p0" t2 ON t2.person_id = c.person_id AND t2.entry_no = c.entry_no AND t2.day = c.day
  LEFT JOIN "study_golden"."tdcov_statin_class_p0" t3 ON t3.person_id = c.person_id AND t3.entry_no = c.entry_no AND t3.day = c.day
  LEFT JOIN "study_golden"."tdcov_agg_p0" t4 ON t4.person_id = c.person_id AND t4.entry_no = c.entry_no AND t4.day = c.day
  LEFT JOIN "study_golden"."tdcov_both_p0" t5 ON t5.person_id = c.person_id AND t5.entry_no = c.entry_no AND t5.day = c.day
  LEFT JOIN "study_golden"."tdcov_load_p0" t6 ON t6.person_id = c.person_id AND t6.entry_no = c.entry_no AND t6.day = c.day
  LEFT JOIN "study_golden"."tdcov_age_cu_p0" t7 ON t7.person_id = c.person_id AND t7.entry_no = c.entry_no AND t7.day = c.day
), g AS (
  SELECT j.*, count(j.d0) OVER w AS g0, count(j.d1) OVER w AS g1, count(j.d2) OVER w AS g2, count(j.d3) OVER w AS g3, count(j.d4) OVER w AS g4, count(j.d5) OVER w AS g5, count(j.d6) OVER w AS g6, count(j.d7) OVER w AS g7,
         lead(j.day) OVER w AS next, row_number() OVER w AS episode_no
  FROM j
  WINDOW w AS (PARTITION BY j.person_id, j.entry_no ORDER BY j.day)
), n AS (
  SELECT g.person_id, g.entry_no, g.day, g.next, g.episode_no::integer AS episode_no,
         first_value(g.v0) OVER (PARTITION BY g.person_id, g.entry_no, g.g0 ORDER BY g.day) AS td0,
         first_value(g.v1) OVER (PARTITION BY g.person_id, g.entry_no, g.g1 ORDER BY g.day) AS td1,
         first_value(g.v2) OVER (PARTITION BY g.person_id, g.entry_no, g.g2 ORDER BY g.day) AS td2,
         first_value(g.v3) OVER (PARTITION BY g.person_id, g.entry_no, g.g3 ORDER BY g.day) AS td3,
         first_value(g.v4) OVER (PARTITION BY g.person_id, g.entry_no, g.g4 ORDER BY g.day) AS td4,
         first_value(g.v5) OVER (PARTITION BY g.person_id, g.entry_no, g.g5 ORDER BY g.day) AS td5,
         first_value(g.v6) OVER (PARTITION BY g.person_id, g.entry_no, g.g6 ORDER BY g.day) AS td6,
         first_value(g.v7) OVER (PARTITION BY g.person_id, g.entry_no, g.g7 ORDER BY g.day) AS td7
  FROM g
)
SELECT n.person_id, n.entry_no, n.episode_no, n.day - f.fu_start, coalesce(n.next, f.fu_end + 1) - f.fu_start,
       n.next IS NULL AND f.end_reason IS NOT DISTINCT FROM $1::text,
       n.td0, n.td1, n.td2, n.td3, n.td4, n.td5, n.td6, n.td7
FROM n
JOIN "study_golden"."followup_p0" f ON f.person_id = n.person_id AND f.entry_no = n.entry_no;

-- step dataset_cp_m_p0 (dataset_cp) after episodes_p0, outcome_adm_p0
SET LOCAL jit = off;
CREATE TABLE "study_golden"."dataset_cp_m_p0" (
person_id bigint NOT NULL,
entry_no integer NOT NULL,
episode_no integer NOT NULL,
start integer NOT NULL,
stop integer,
event boolean NOT NULL,
"cov_agg" text,
"cov_both" boolean,
"cov_load" double precision,
"cov_age_cu" double precision,
PRIMARY KEY (person_id, entry_no, episode_no)
);
INSERT INTO "study_golden"."dataset_cp_m_p0"
(person_id, entry_no, episode_no, start, stop, event, "cov_agg", "cov_both", "cov_load", "cov_age_cu")
SELECT e.person_id, e.entry_no, e.episode_no, e.start, least(e.stop, o.time), o.event AND (e.stop IS NULL OR e.stop >= o.time), e."td_agg", e."td_both", e."td_load", e."td_age_cu"
FROM "study_golden"."episodes_p0" e
JOIN "study_golden"."outcome_adm_p0" o ON o.person_id = e.person_id AND o.entry_no = e.entry_no
WHERE o.time IS NULL OR e.start < o.time;
