-- plan for schema study_golden, 2 partitions, data version 7; partition 0 shown

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

-- step cov_cci_p0 (covariate) after cohort_p0
-- $1 = -365
-- $2 = -1
-- $3 = []string{"ami", "chf", "pvd", "cevd", "dementia", "copd", "rheumd", "pud", "mld", "diab", "diabwc", "hp", "rend", "canc", "msld", "metacanc", "aids"}
-- $4 = []float64{1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 3, 6, 6}
-- $5 = []string{"", "", "", "", "", "", "", "", "msld", "diabwc", "", "", "", "metacanc", "", "", ""}
-- $6 = []string{"ami", "ami", "chf", "chf", "chf", "chf", "chf", "chf", "chf", "chf", "chf", "chf", "chf", "chf", "chf", "chf", "chf", "chf", "chf", "pvd", "pvd", "pvd", "pvd", "pvd", "pvd", "pvd", "pvd", "pvd", "pvd", "pvd", "pvd", "pvd", "pvd", "pvd", "pvd", "pvd", "cevd", "cevd", "cevd", "cevd", "cevd", "cevd", "cevd", "cevd", "cevd", "cevd", "dementia", "dementia", "dementia", "copd", "copd", "copd", "copd", "copd", "copd", "copd", "copd", "copd", "copd", "copd", "copd", "copd", "copd", "copd", "copd", "copd", "copd", "copd", "copd", "copd", "rheumd", "rheumd", "rheumd", "rheumd", "rheumd", "rheumd", "rheumd", "rheumd", "rheumd", "rheumd", "rheumd", "pud", "pud", "pud", "pud", "mld", "mld", "mld", "mld", "mld", "mld", "mld", "mld", "mld", "mld", "mld", "mld", "mld", "mld", "mld", "diab", "diab", "diab", "diab", "diab", "diab", "diabwc", "diabwc", "diabwc", "diabwc", "hp", "hp", "hp", "hp", "hp", "hp", "hp", "hp", "hp", "hp", "hp", "rend", "rend", "rend", "rend", "rend", "rend", "rend", "rend", "rend", "rend", "rend", "rend", "rend", "rend", "rend", "rend", "rend", "rend", "rend", "rend", "rend", "rend", "rend", "rend", "canc", "canc", "canc", "canc", "canc", "canc", "canc", "canc", "canc", "canc", "canc", "canc", "canc", "canc", "canc", "canc", "canc", "canc", "canc", "canc", "canc", "canc", "canc", "canc", "canc", "canc", "canc", "canc", "canc", "canc", "canc", "canc", "canc", "canc", "canc", "canc", "canc", "canc", "canc", "canc", "canc", "canc", "canc", "canc", "canc", "canc", "canc", "canc", "canc", "canc", "canc", "canc", "canc", "canc", "canc", "canc", "canc", "canc", "canc", "canc", "canc", "canc", "canc", "canc", "canc", "msld", "msld", "msld", "msld", "msld", "msld", "msld", "msld", "msld", "msld", "metacanc", "metacanc", "metacanc", "metacanc", "aids", "aids", "aids"}
-- $7 = []int32{3, 3, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 4, 4, 4, 4, 4, 4, 3, 4, 4, 3, 3, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 5, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 4, 4, 4, 4, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 3, 3, 3, 3, 3, 5, 5, 5, 5, 5, 5, 4, 4, 3, 3, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 3, 3, 4, 4, 4, 4, 4, 4, 4, 4, 5, 5, 5, 5, 5, 5, 5, 5, 5, 3, 4, 4, 4, 4, 4, 4, 4, 4, 3, 3, 4, 4, 4, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 3, 3, 3, 3, 3, 3, 3}
-- $8 = []string{"410", "412", "39891", "40201", "40211", "40291", "40401", "40403", "40411", "40413", "40491", "40493", "4254", "4255", "4256", "4257", "4258", "4259", "428", "0930", "4373", "440", "441", "4431", "4432", "4433", "4434", "4435", "4436", "4437", "4438", "4439", "4471", "5571", "5579", "V434", "36234", "430", "431", "432", "433", "434", "435", "436", "437", "438", "290", "2941", "3312", "4168", "4169", "490", "491", "492", "493", "494", "495", "496", "497", "498", "499", "500", "501", "502", "503", "504", "505", "5064", "5081", "5088", "4465", "7100", "7101", "7102", "7103", "7104", "7140", "7141", "7142", "7148", "725", "531", "532", "533", "534", "07022", "07023", "07032", "07033", "07044", "07054", "0706", "0709", "570", "571", "5733", "5734", "5738", "5739", "V427", "2500", "2501", "2502", "2503", "2508", "2509", "2504", "2505", "2506", "2507", "3341", "342", "343", "3440", "3441", "3442", "3443", "3444", "3445", "3446", "3449", "40301", "40311", "40391", "40402", "40403", "40412", "40413", "40492", "40493", "582", "5830", "5831", "5832", "5833", "5834", "5835", "5836", "5837", "585", "586", "5880", "V420", "V451", "V56", "140", "141", "142", "143", "144", "145", "146", "147", "148", "149", "150", "151", "152", "153", "154", "155", "156", "157", "158", "159", "160", "161", "162", "163", "164", "165", "166", "167", "168", "169", "170", "171", "172", "174", "175", "176", "177", "178", "179", "180", "181", "182", "183", "184", "185", "186", "187", "188", "189", "190", "191", "192", "193", "194", "195", "200", "201", "202", "203", "204", "205", "206", "207", "208", "2386", "4560", "4561", "4562", "5722", "5723", "5724", "5725", "5726", "5727", "5728", "196", "197", "198", "199", "042", "043", "044"}
-- $9 = []string{"410", "412", "39891", "40201", "40211", "40291", "40401", "40403", "40411", "40413", "40491", "40493", "4254", "4255", "4256", "4257", "4258", "4259", "428", "0930", "4373", "440", "441", "4431", "4432", "4433", "4434", "4435", "4436", "4437", "4438", "4439", "4471", "5571", "5579", "V434", "36234", "430", "431", "432", "433", "434", "435", "436", "437", "438", "290", "2941", "3312", "4168", "4169", "490", "491", "492", "493", "494", "495", "496", "497", "498", "499", "500", "501", "502", "503", "504", "505", "5064", "5081", "5088", "4465", "7100", "7101", "7102", "7103", "7104", "7140", "7141", "7142", "7148", "725", "531", "532", "533", "534", "07022", "07023", "07032", "07033", "07044", "07054", "0706", "0709", "570", "571", "5733", "5734", "5738", "5739", "V427", "2500", "2501", "2502", "2503", "2508", "2509", "2504", "2505", "2506", "2507", "3341", "342", "343", "3440", "3441", "3442", "3443", "3444", "3445", "3446", "3449", "40301", "40311", "40391", "40402", "40403", "40412", "40413", "40492", "40493", "582", "5830", "5831", "5832", "5833", "5834", "5835", "5836", "5837", "585", "586", "5880", "V420", "V451", "V56", "140", "141", "142", "143", "144", "145", "146", "147", "148", "149", "150", "151", "152", "153", "154", "155", "156", "157", "158", "159", "160", "161", "162", "163", "164", "165", "166", "167", "168", "169", "170", "171", "172", "174", "175", "176", "177", "178", "179", "180", "181", "182", "183", "184", "185", "186", "187", "188", "189", "190", "191", "192", "193", "194", "195", "200", "201", "202", "203", "204", "205", "206", "207", "208", "2386", "4560", "4561", "4562", "5722", "5723", "5724", "5725", "5726", "5727", "5728", "196", "197", "198", "199", "042", "043", "044"}
-- $10 = 7
SET LOCAL jit = off;
CREATE TABLE "study_golden"."cov_cci_p0" (
person_id bigint NOT NULL,
entry_no integer NOT NULL,
value double precision,
PRIMARY KEY (person_id, entry_no)
);
INSERT INTO "study_golden"."cov_cci_p0"
(person_id, entry_no, value)
WITH cond (cond, weight, superseded_by) AS (
  SELECT * FROM unnest($3::text[], $4::double precision[], $5::text[])
), dx (cond, n, lo, hi) AS (
  SELECT * FROM unnest($6::text[], $7::integer[], $8::text[], $9::text[])
), hit AS (
  SELECT DISTINCT i.person_id, i.entry_no, dx.cond
  FROM "study_golden"."cohort_p0" i
  JOIN "sdo_diagnosis_p0" d ON d.person_id = i.person_id AND d.admission_date >= i.index_date + $1::integer AND d.admission_date <= i.index_date + $2::integer
  JOIN dx ON left(d.code, dx.n) COLLATE "C" BETWEEN dx.lo AND dx.hi
  WHERE d.data_version <= $10::bigint
    AND (NOT EXISTS (SELECT 1 FROM "dict_icd9cm" WHERE kind = 'dx') OR EXISTS (SELECT 1 FROM "dict_icd9cm" v WHERE v.kind = 'dx' AND v.code = d.code AND v.valid_from <= d.admission_date AND (v.valid_to IS NULL OR d.admission_date <= v.valid_to)))
), score AS (
  SELECT h.person_id, h.entry_no, sum(cond.weight) AS v
  FROM hit h
  JOIN cond ON cond.cond = h.cond
  WHERE NOT EXISTS (SELECT 1 FROM hit s
                    WHERE s.person_id = h.person_id AND s.entry_no = h.entry_no AND s.cond = cond.superseded_by)
  GROUP BY h.person_id, h.entry_no
)
SELECT i.person_id, i.entry_no, coalesce(score.v, 0)
FROM "study_golden"."cohort_p0" i
LEFT JOIN score ON score.person_id = i.person_id AND score.entry_no = i.entry_no;

-- step cov_mcs_p0 (covariate) after cohort_p0
-- $1 = -730
-- $2 = -1
-- $3 = []string{"CANCRO_MET", "AB_ALCOL", "CANCRO_NOMET", "TUBERCOLOSI", "PSICOSI", "MAL_FEGATO", "FAR_ANXIETY", "PERDITA_PESO", "DEMENZA", "FAR_MALIGNANCIES", "PARKINSON", "LINFOMA", "PARALISI", "COAGULOPATIA", "ALT_FLUIDI", "MAL_RENALE", "DIALISI_RENALE", "HF", "ALTRE_MAL_NEURO", "MAL_REUMATICA", "ANEMIA", "CEREBRO", "DIABETE", "MAL_VASCOL", "GOTTA", "EPILESSIA", "MAL_POLMONARE", "ULCERA", "AMI", "FAR_CORONARY", "MAL_VALV", "ARITMIA", "OBESITA", "IPOTIROIDISMO"}
-- $4 = []float64{18, 11, 10, 10, 8, 8, 6, 6, 6, 5, 5, 5, 5, 5, 4, 4, 4, 4, 3, 3, 3, 3, 2, 2, 2, 2, 2, 2, 1, 1, 1, 1, 1, 1}
-- $5 = []string{"", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "", ""}
-- $6 = []string{"CANCRO_MET", "CANCRO_MET", "AB_ALCOL", "AB_ALCOL", "AB_ALCOL", "AB_ALCOL", "AB_ALCOL", "AB_ALCOL", "AB_ALCOL", "AB_ALCOL", "CANCRO_NOMET", "CANCRO_NOMET", "CANCRO_NOMET", "CANCRO_NOMET", "TUBERCOLOSI", "PSICOSI", "PSICOSI", "MAL_FEGATO", "MAL_FEGATO", "MAL_FEGATO", "MAL_FEGATO", "MAL_FEGATO", "MAL_FEGATO", "MAL_FEGATO", "MAL_FEGATO", "MAL_FEGATO", "MAL_FEGATO", "MAL_FEGATO", "MAL_FEGATO", "MAL_FEGATO", "MAL_FEGATO", "MAL_FEGATO", "MAL_FEGATO", "MAL_FEGATO", "MAL_FEGATO", "PERDITA_PESO", "DEMENZA", "PARKINSON", "LINFOMA", "LINFOMA", "LINFOMA", "LINFOMA", "LINFOMA", "LINFOMA", "LINFOMA", "LINFOMA", "LINFOMA", "PARALISI", "PARALISI", "PARALISI", "PARALISI", "COAGULOPATIA", "COAGULOPATIA", "COAGULOPATIA", "ALT_FLUIDI", "MAL_RENALE", "MAL_RENALE", "MAL_RENALE", "MAL_RENALE", "MAL_RENALE", "MAL_RENALE", "MAL_RENALE", "MAL_RENALE", "MAL_RENALE", "MAL_RENALE", "DIALISI_RENALE", "HF", "HF", "HF", "HF", "HF", "HF", "HF", "HF", "ALTRE_MAL_NEURO", "ALTRE_MAL_NEURO", "ALTRE_MAL_NEURO", "ALTRE_MAL_NEURO", "ALTRE_MAL_NEURO", "ALTRE_MAL_NEURO", "ALTRE_MAL_NEURO", "ALTRE_MAL_NEURO", "ALTRE_MAL_NEURO", "ALTRE_MAL_NEURO", "ALTRE_MAL_NEURO", "ALTRE_MAL_NEURO", "ALTRE_MAL_NEURO", "ALTRE_MAL_NEURO", "ALTRE_MAL_NEURO", "ALTRE_MAL_NEURO", "ALTRE_MAL_NEURO", "MAL_REUMATICA", "MAL_REUMATICA", "MAL_REUMATICA", "MAL_REUMATICA", "MAL_REUMATICA", "MAL_REUMATICA", "MAL_REUMATICA", "MAL_REUMATICA", "ANEMIA", "ANEMIA", "CEREBRO", "DIABETE", "DIABETE", "DIABETE", "MAL_VASCOL", "MAL_VASCOL", "MAL_VASCOL", "MAL_VASCOL", "MAL_VASCOL", "MAL_VASCOL", "MAL_VASCOL", "MAL_VASCOL", "MAL_VASCOL", "MAL_VASCOL", "MAL_VASCOL", "GOTTA", "EPILESSIA", "MAL_POLMONARE", "MAL_POLMONARE", "MAL_POLMONARE", "MAL_POLMONARE", "MAL_POLMONARE", "MAL_POLMONARE", "ULCERA", "AMI", "MAL_VALV", "MAL_VALV", "MAL_VALV", "MAL_VALV", "MAL_VALV", "MAL_VALV", "MAL_VALV", "MAL_VALV", "ARITMIA", "ARITMIA", "ARITMIA", "ARITMIA", "ARITMIA", "ARITMIA", "ARITMIA", "ARITMIA", "ARITMIA", "ARITMIA", "ARITMIA", "ARITMIA", "ARITMIA", "ARITMIA", "OBESITA", "OBESITA", "IPOTIROIDISMO", "IPOTIROIDISMO", "IPOTIROIDISMO", "IPOTIROIDISMO", "IPOTIROIDISMO", "IPOTIROIDISMO"}
-- $7 = []int32{3, 4, 4, 4, 4, 4, 4, 4, 5, 5, 3, 3, 3, 3, 3, 5, 3, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 5, 5, 5, 5, 5, 5, 3, 3, 3, 4, 4, 4, 5, 5, 5, 3, 5, 5, 4, 4, 3, 5, 3, 4, 4, 3, 3, 3, 3, 3, 4, 4, 4, 4, 4, 4, 4, 5, 5, 5, 5, 5, 5, 5, 3, 3, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 3, 4, 5, 5, 5, 4, 4, 4, 4, 3, 3, 3, 3, 4, 3, 3, 3, 4, 4, 3, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 3, 3, 3, 4, 3, 3, 4, 5, 3, 3, 4, 4, 5, 4, 5, 4, 4, 3, 5, 5, 5, 5, 5, 4, 4, 4, 4, 4, 4, 4, 5, 4, 5, 5, 3, 4, 4, 4, 4, 4}
-- $8 = []string{"196", "1990", "2911", "2912", "2915", "2918", "2919", "V113", "30390", "30500", "V10", "140", "174", "179", "010", "29910", "295", "4560", "4561", "5710", "5712", "5713", "5715", "5716", "5718", "5719", "5723", "5728", "V427", "07032", "07033", "07054", "45620", "45621", "57140", "260", "290", "332", "2038", "2386", "2733", "V1071", "V1072", "V1079", "200", "20200", "20250", "3420", "3429", "343", "34210", "286", "2871", "2873", "276", "582", "585", "586", "588", "5830", "5831", "5834", "5837", "5838", "5846", "V560", "39891", "40211", "40291", "40411", "40413", "40491", "40493", "428", "340", "3319", "3320", "3334", "3335", "3450", "3454", "3458", "3481", "3483", "7803", "7843", "334", "3411", "34510", "34550", "34590", "7140", "7141", "7143", "7149", "390", "391", "720", "725", "2859", "280", "430", "250", "3620", "3572", "440", "4412", "4414", "4417", "4419", "4471", "5571", "5579", "7854", "V434", "4431", "274", "345", "494", "5064", "490", "495", "4930", "49390", "531", "410", "V422", "V433", "09320", "4240", "42490", "3970", "7463", "394", "42610", "42611", "42613", "42731", "42760", "4270", "4272", "4279", "7850", "V450", "V533", "4262", "42650", "4266", "27800", "27801", "243", "2440", "2441", "2442", "2448", "2449"}
-- $9 = []string{"198", "1991", "2911", "2912", "2915", "2918", "2919", "V113", "30393", "30503", "V10", "172", "175", "195", "018", "29911", "298", "4560", "4561", "5710", "5712", "5713", "5715", "5716", "5718", "5719", "5723", "5728", "V427", "07032", "07033", "07054", "45620", "45621", "57149", "263", "290", "332", "2038", "2386", "2733", "V1071", "V1072", "V1079", "201", "20238", "20301", "3420", "3429", "344", "34212", "286", "2871", "2875", "276", "582", "585", "586", "588", "5830", "5831", "5834", "5837", "5838", "5846", "V560", "39891", "40211", "40291", "40411", "40413", "40491", "40493", "428", "340", "3319", "3320", "3334", "3335", "3450", "3454", "3458", "3481", "3483", "7803", "7843", "335", "3419", "34511", "34551", "34591", "7140", "7141", "7143", "7149", "390", "391", "720", "725", "2859", "281", "438", "250", "3620", "3572", "440", "4412", "4414", "4417", "4419", "4471", "5571", "5579", "7854", "V434", "4439", "274", "345", "494", "5064", "492", "505", "4938", "49391", "534", "412", "V422", "V433", "09324", "4248", "42491", "3971", "7466", "396", "42610", "42611", "42613", "42731", "42760", "4270", "4272", "4279", "7850", "V450", "V533", "4264", "42653", "4268", "27800", "27801", "243", "2440", "2441", "2442", "2448", "2449"}
-- $10 = 7
-- $11 = 7
-- $12 = 7
-- $13 = []string{"TUBERCOLOSI", "PSICOSI", "PSICOSI", "PSICOSI", "PSICOSI", "PSICOSI", "PSICOSI", "MAL_FEGATO", "FAR_ANXIETY", "FAR_ANXIETY", "FAR_ANXIETY", "FAR_ANXIETY", "FAR_ANXIETY", "FAR_ANXIETY", "FAR_ANXIETY", "FAR_ANXIETY", "FAR_MALIGNANCIES", "FAR_MALIGNANCIES", "FAR_MALIGNANCIES", "FAR_MALIGNANCIES", "FAR_MALIGNANCIES", "PARKINSON", "MAL_RENALE", "HF", "HF", "HF", "HF", "HF", "HF", "HF", "HF", "MAL_REUMATICA", "MAL_REUMATICA", "MAL_REUMATICA", "ANEMIA", "ANEMIA", "DIABETE", "GOTTA", "GOTTA", "GOTTA", "EPILESSIA", "EPILESSIA", "EPILESSIA", "EPILESSIA", "EPILESSIA", "MAL_POLMONARE", "MAL_POLMONARE", "MAL_POLMONARE", "MAL_POLMONARE", "MAL_POLMONARE", "MAL_POLMONARE", "MAL_POLMONARE", "MAL_POLMONARE", "MAL_POLMONARE", "MAL_POLMONARE", "MAL_POLMONARE", "MAL_POLMONARE", "ULCERA", "ULCERA", "ULCERA", "ULCERA", "ULCERA", "FAR_CORONARY", "FAR_CORONARY", "FAR_CORONARY", "FAR_CORONARY", "FAR_CORONARY", "FAR_CORONARY", "FAR_CORONARY", "FAR_CORONARY", "FAR_CORONARY", "ARITMIA", "ARITMIA", "ARITMIA", "IPOTIROIDISMO", "IPOTIROIDISMO"}
-- $14 = []int32{5, 5, 5, 5, 5, 5, 7, 5, 5, 5, 5, 5, 5, 7, 7, 7, 3, 3, 5, 5, 7, 4, 7, 4, 5, 5, 7, 7, 7, 7, 7, 5, 5, 7, 5, 7, 3, 5, 5, 7, 5, 5, 7, 7, 7, 5, 5, 5, 5, 5, 5, 7, 7, 7, 7, 7, 7, 5, 5, 7, 7, 7, 5, 5, 5, 5, 7, 7, 7, 7, 7, 5, 5, 5, 4, 4}
-- $15 = []string{"J04AB", "N05AA", "N05AB", "N05AC", "N05AD", "N05AX", "N05AF04", "A06AD", "N05BA", "N05CD", "N05CF", "N05BX", "N06BX", "N05BC01", "N05BC51", "N05CX01", "L01", "A04", "L03AC", "L03AA", "C07AB05", "N04B", "V03AE01", "C03C", "C01DA", "C01AA", "C01BA01", "C01BA02", "C01BA51", "C01BA71", "C01BA93", "M01BA", "M01CB", "P01BA02", "L03AA", "B03XA01", "A10", "M04AA", "M04AB", "M04AC01", "N03AA", "N03AX", "N03AB02", "N03AB05", "N03AB52", "R03AA", "R03AB", "R03AC", "R03DA", "R03DB", "R03BA", "R03DA20", "R01AC01", "R03BC01", "R01AC51", "S01GX01", "S01GX51", "A02BA", "A02BB", "A02BC01", "A02BD01", "A02BD05", "B01AA", "B01AB", "B01AE", "B01AF", "B01AX01", "B01AD10", "B01AD12", "B01AC05", "C04AD03", "C01BA", "C01BC", "C01BD", "H03A", "H03B"}
-- $16 = []string{"J04AB", "N05AA", "N05AB", "N05AC", "N05AD", "N05AX", "N05AF04", "A06AD", "N05BA", "N05CD", "N05CF", "N05BX", "N06BX", "N05BC01", "N05BC51", "N05CX01", "L01", "A04", "L03AC", "L03AA", "C07AB05", "N04B", "V03AE01", "C03C", "C01DA", "C01AA", "C01BA01", "C01BA02", "C01BA51", "C01BA71", "C01BA93", "M01BA", "M01CB", "P01BA02", "L03AA", "B03XA01", "A10", "M04AA", "M04AB", "M04AC01", "N03AA", "N03AX", "N03AB02", "N03AB05", "N03AB52", "R03AA", "R03AB", "R03AC", "R03DA", "R03DB", "R03BA", "R03DA20", "R01AC01", "R03BC01", "R01AC51", "S01GX01", "S01GX51", "A02BA", "A02BB", "A02BC01", "A02BD01", "A02BD05", "B01AA", "B01AB", "B01AE", "B01AF", "B01AX01", "B01AD10", "B01AD12", "B01AC05", "C04AD03", "C01BA", "C01BC", "C01BD", "H03A", "H03B"}
SET LOCAL jit = off;
CREATE TABLE "study_golden"."cov_mcs_p0" (
person_id bigint NOT NULL,
entry_no integer NOT NULL,
value double precision,
PRIMARY KEY (person_id, entry_no)
);
INSERT INTO "study_golden"."cov_mcs_p0"
(person_id, entry_no, value)
WITH cond (cond, weight, superseded_by) AS (
  SELECT * FROM unnest($3::text[], $4::double precision[], $5::text[])
), dx (cond, n, lo, hi) AS (
  SELECT * FROM unnest($6::text[], $7::integer[], $8::text[], $9::text[])
), hit AS (
  SELECT DISTINCT i.person_id, i.entry_no, dx.cond
  FROM "study_golden"."cohort_p0" i
  JOIN "sdo_diagnosis_p0" d ON d.person_id = i.person_id AND d.admission_date >= i.index_date + $1::integer AND d.admission_date <= i.index_date + $2::integer
  JOIN dx ON left(d.code, dx.n) COLLATE "C" BETWEEN dx.lo AND dx.hi
  WHERE d.data_version <= $10::bigint
    AND (NOT EXISTS (SELECT 1 FROM "dict_icd9cm" WHERE kind = 'dx') OR EXISTS (SELECT 1 FROM "dict_icd9cm" v WHERE v.kind = 'dx' AND v.code = d.code AND v.valid_from <= d.admission_date AND (v.valid_to IS NULL OR d.admission_date <= v.valid_to)))
  UNION
  SELECT i.person_id, i.entry_no, atc.cond
  FROM "study_golden"."cohort_p0" i
  JOIN (SELECT x.person_id, x.dispensing_date, x.atc FROM "pharmacy_p0" x WHERE x.data_version <= $11::bigint
        UNION ALL
        SELECT x.person_id, x.dispensing_date, x.atc FROM "direct_distribution_p0" x WHERE x.data_version <= $12::bigint) x ON x.person_id = i.person_id AND x.dispensing_date >= i.index_date + $1::integer AND x.dispensing_date <= i.index_date + $2::integer
  JOIN (SELECT * FROM unnest($13::text[], $14::integer[], $15::text[], $16::text[])) AS atc (cond, n, lo, hi) ON left(x.atc, atc.n) COLLATE "C" BETWEEN atc.lo AND atc.hi
), score AS (
  SELECT h.person_id, h.entry_no, sum(cond.weight) AS v
  FROM hit h
  JOIN cond ON cond.cond = h.cond
  WHERE NOT EXISTS (SELECT 1 FROM hit s
                    WHERE s.person_id = h.person_id AND s.entry_no = h.entry_no AND s.cond = cond.superseded_by)
  GROUP BY h.person_id, h.entry_no
)
SELECT i.person_id, i.entry_no, coalesce(score.v, 0)
FROM "study_golden"."cohort_p0" i
LEFT JOIN score ON score.person_id = i.person_id AND score.entry_no = i.entry_no;

-- step cov_mcs_class_p0 (covariate) after cohort_p0, cov_mcs_p0
-- $1 = 1
-- $2 = "0"
-- $3 = 5
-- $4 = "1-4"
-- $5 = 10
-- $6 = "5-9"
-- $7 = 15
-- $8 = "10-14"
-- $9 = 20
-- $10 = "15-19"
-- $11 = "20+"
SET LOCAL jit = off;
CREATE TABLE "study_golden"."cov_mcs_class_p0" (
person_id bigint NOT NULL,
entry_no integer NOT NULL,
value text,
PRIMARY KEY (person_id, entry_no)
);
INSERT INTO "study_golden"."cov_mcs_class_p0"
(person_id, entry_no, value)
SELECT i.person_id, i.entry_no, CASE WHEN v0.value < $1::double precision THEN $2::text WHEN v0.value < $3::double precision THEN $4::text WHEN v0.value < $5::double precision THEN $6::text WHEN v0.value < $7::double precision THEN $8::text WHEN v0.value < $9::double precision THEN $10::text WHEN v0.value IS NOT NULL THEN $11::text END
FROM "study_golden"."cohort_p0" i
JOIN "study_golden"."cov_mcs_p0" v0 ON v0.person_id = i.person_id AND v0.entry_no = i.entry_no;

-- step dataset_p0 (dataset) after cohort_p0, followup_p0, cov_cci_p0, cov_mcs_p0, cov_mcs_class_p0
SET LOCAL jit = off;
CREATE TABLE "study_golden"."dataset_p0" (
person_id bigint NOT NULL,
entry_no integer NOT NULL,
index_date date NOT NULL,
index_group text,
fu_start date,
fu_end date,
end_reason text,
"cov_cci" double precision,
"cov_mcs" double precision,
"cov_mcs_class" text,
PRIMARY KEY (person_id, entry_no)
);
INSERT INTO "study_golden"."dataset_p0"
(person_id, entry_no, index_date, index_group, fu_start, fu_end, end_reason, "cov_cci", "cov_mcs", "cov_mcs_class")
SELECT i.person_id, i.entry_no, i.index_date, i.index_group, f.fu_start, f.fu_end, f.end_reason, v0.value, v1.value, v2.value
FROM "study_golden"."cohort_p0" i
LEFT JOIN "study_golden"."followup_p0" f ON f.person_id = i.person_id AND f.entry_no = i.entry_no
JOIN "study_golden"."cov_cci_p0" v0 ON v0.person_id = i.person_id AND v0.entry_no = i.entry_no
JOIN "study_golden"."cov_mcs_p0" v1 ON v1.person_id = i.person_id AND v1.entry_no = i.entry_no
JOIN "study_golden"."cov_mcs_class_p0" v2 ON v2.person_id = i.person_id AND v2.entry_no = i.entry_no;
