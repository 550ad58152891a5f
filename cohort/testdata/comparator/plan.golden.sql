-- plan for schema study_golden, 2 partitions, data version 7; partition 0 shown

-- step ev_ace_dispensing_p0 (event)
-- $1 = 7
-- $2 = []string{"C09A%", "C09B%"}
-- $3 = 7
-- $4 = []string{"C09A%", "C09B%"}
CREATE TABLE "study_golden"."ev_ace_dispensing_p0" (
person_id bigint NOT NULL,
record_id text NOT NULL,
start_date date NOT NULL,
end_date date,
PRIMARY KEY (person_id, record_id)
);
INSERT INTO "study_golden"."ev_ace_dispensing_p0"
(person_id, record_id, start_date, end_date)
SELECT x.person_id, 'P' || x.event_id, x.dispensing_date, x.dispensing_date
FROM "pharmacy_p0" x
WHERE x.data_version <= $1::bigint
  AND ((x.atc LIKE ANY($2::text[])))
UNION ALL
SELECT x.person_id, 'D' || x.event_id, x.dispensing_date, x.dispensing_date
FROM "direct_distribution_p0" x
WHERE x.data_version <= $3::bigint
  AND ((x.atc LIKE ANY($4::text[])));

-- step ev_arb_dispensing_p0 (event)
-- $1 = 7
-- $2 = []string{"C09C%", "C09D%"}
-- $3 = 7
-- $4 = []string{"C09C%", "C09D%"}
CREATE TABLE "study_golden"."ev_arb_dispensing_p0" (
person_id bigint NOT NULL,
record_id text NOT NULL,
start_date date NOT NULL,
end_date date,
PRIMARY KEY (person_id, record_id)
);
INSERT INTO "study_golden"."ev_arb_dispensing_p0"
(person_id, record_id, start_date, end_date)
SELECT x.person_id, 'P' || x.event_id, x.dispensing_date, x.dispensing_date
FROM "pharmacy_p0" x
WHERE x.data_version <= $1::bigint
  AND ((x.atc LIKE ANY($2::text[])))
UNION ALL
SELECT x.person_id, 'D' || x.event_id, x.dispensing_date, x.dispensing_date
FROM "direct_distribution_p0" x
WHERE x.data_version <= $3::bigint
  AND ((x.atc LIKE ANY($4::text[])));

-- step spells_p0 (spells)
-- $1 = 7
-- $2 = 0
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

-- step index_p0 (index) after ev_ace_dispensing_p0, ev_arb_dispensing_p0, spells_p0
-- $1 = "A"
-- $2 = "B"
-- $3 = "2013-01-01"
-- $4 = "2018-12-31"
-- $5 = 40
-- $6 = 90
-- $7 = 365
-- $8 = 0
-- $9 = 365
-- $10 = 7
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
WITH occ AS (
  SELECT o.person_id, o.start_date, o.end_date, $1::text AS grp, 0 AS ev FROM "study_golden"."ev_ace_dispensing_p0" o
  UNION ALL
  SELECT o.person_id, o.start_date, o.end_date, $2::text AS grp, 1 AS ev FROM "study_golden"."ev_arb_dispensing_p0" o
), qual AS (
  SELECT o.*
  FROM occ o
  JOIN "person_p0" p ON p.person_id = o.person_id AND p.data_version <= $10::bigint
  WHERE o.start_date BETWEEN $3::date AND $4::date
    AND extract(year FROM age(o.start_date, p.birth_date)) >= $5::integer
    AND extract(year FROM age(o.start_date, p.birth_date)) <= $6::integer
    AND EXISTS (SELECT 1 FROM "study_golden"."spells_p0" s WHERE s.person_id = o.person_id AND s.start_date <= o.start_date - $7::integer AND (s.end_date IS NULL OR s.end_date >= o.start_date + $8::integer))
    AND NOT EXISTS (SELECT 1 FROM occ w WHERE w.person_id = o.person_id
                    AND w.start_date BETWEEN o.start_date - $9::integer AND o.start_date - 1)
), day AS (
  SELECT q.person_id, q.start_date AS index_date,
         CASE WHEN bool_or(q.end_date IS NULL) THEN NULL ELSE max(q.end_date) END AS index_end
  FROM qual q
  GROUP BY q.person_id, q.start_date
), grp AS (
  SELECT o.person_id, o.start_date, min(o.grp) AS grp, count(DISTINCT o.grp) AS n
  FROM occ o
  GROUP BY o.person_id, o.start_date
)
SELECT d.person_id, row_number() OVER (PARTITION BY d.person_id ORDER BY d.index_date),
       d.index_date, d.index_end,
       CASE WHEN g.n = 1 THEN g.grp END, coalesce(g.n > 1, false)
FROM (SELECT DISTINCT ON (d.person_id) d.* FROM day d ORDER BY d.person_id, d.index_date) AS d
JOIN grp g ON g.person_id = d.person_id AND g.start_date = d.index_date;
