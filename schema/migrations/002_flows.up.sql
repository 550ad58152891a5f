-- The eight administrative flows, their code dictionaries and the import
-- bookkeeping (docs/flows.md).
--
-- Every flow table is hash-partitioned by person_id. The partitions are not
-- created here: their number is chosen when the database is initialised
-- (`beaver init --partitions N`, default 8) and schema.EnsurePartitions creates
-- them, recording the number in etl_setting. Keys include person_id so the
-- schema runs unchanged on Citus. Every published row carries the data
-- version that published it: a study that records version N reads
-- `data_version <= N`.
--
-- Codes are text exactly as the source gives them (no dots, leading zeros
-- kept). Summed quantities are double precision.

CREATE TABLE etl_setting (
    key        text PRIMARY KEY,
    value      text NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now()
);

-- One sequence numbers the events of every flow that has no natural key.
CREATE SEQUENCE flow_event_seq;

-- Registry of persons: one row per person, updated in place by later
-- imports (the row keeps the data version of its last change).
CREATE TABLE person (
    person_id          bigint NOT NULL,
    sex                text NOT NULL CHECK (sex IN ('M', 'F')),
    birth_date         date NOT NULL,
    death_date         date,
    birth_municipality text,
    data_version       bigint NOT NULL,
    PRIMARY KEY (person_id)
) PARTITION BY HASH (person_id);

-- Enrolment spells: observation time comes from these.
CREATE TABLE enrolment (
    person_id    bigint NOT NULL,
    event_id     bigint NOT NULL DEFAULT nextval('flow_event_seq'),
    start_date   date NOT NULL,
    end_date     date,
    asl          text NOT NULL,
    municipality text,
    gp_id        text,
    end_reason   text,
    data_version bigint NOT NULL,
    PRIMARY KEY (person_id, event_id)
) PARTITION BY HASH (person_id);
CREATE INDEX enrolment_person_date_idx ON enrolment (person_id, start_date);

-- Hospital discharges (SDO). Diagnoses and procedures are child tables.
CREATE TABLE sdo (
    person_id       bigint NOT NULL,
    discharge_id    text NOT NULL,
    hospital        text,
    admission_date  date NOT NULL,
    discharge_date  date NOT NULL,
    regime          text,
    admission_type  text,
    discharge_mode  text,
    ward            text,
    drg             text,
    tariff          double precision,
    data_version    bigint NOT NULL,
    PRIMARY KEY (person_id, discharge_id)
) PARTITION BY HASH (person_id);
CREATE INDEX sdo_person_date_idx ON sdo (person_id, admission_date);

-- position 0 is the principal diagnosis, 1.. the secondary ones.
CREATE TABLE sdo_diagnosis (
    person_id      bigint NOT NULL,
    discharge_id   text NOT NULL,
    position       smallint NOT NULL,
    code           text NOT NULL,
    admission_date date NOT NULL,
    data_version   bigint NOT NULL,
    PRIMARY KEY (person_id, discharge_id, position)
) PARTITION BY HASH (person_id);
CREATE INDEX sdo_diagnosis_code_idx ON sdo_diagnosis (code, admission_date);

CREATE TABLE sdo_procedure (
    person_id      bigint NOT NULL,
    discharge_id   text NOT NULL,
    position       smallint NOT NULL,
    code           text NOT NULL,
    procedure_date date,
    admission_date date NOT NULL,
    data_version   bigint NOT NULL,
    PRIMARY KEY (person_id, discharge_id, position)
) PARTITION BY HASH (person_id);
CREATE INDEX sdo_procedure_code_idx ON sdo_procedure (code, admission_date);

-- Outpatient pharmacy dispensing.
CREATE TABLE pharmacy (
    person_id       bigint NOT NULL,
    event_id        bigint NOT NULL DEFAULT nextval('flow_event_seq'),
    dispensing_date date NOT NULL,
    aic             text NOT NULL,
    atc             text,
    packs           double precision NOT NULL,
    prescriber_id   text,
    cost            double precision,
    copay           double precision,
    data_version    bigint NOT NULL,
    PRIMARY KEY (person_id, event_id)
) PARTITION BY HASH (person_id);
CREATE INDEX pharmacy_person_date_idx ON pharmacy (person_id, dispensing_date);
CREATE INDEX pharmacy_atc_idx ON pharmacy (atc, dispensing_date);

-- Direct distribution: pharmacy plus units and channel.
CREATE TABLE direct_distribution (
    person_id       bigint NOT NULL,
    event_id        bigint NOT NULL DEFAULT nextval('flow_event_seq'),
    dispensing_date date NOT NULL,
    aic             text NOT NULL,
    atc             text,
    packs           double precision NOT NULL,
    units           double precision,
    channel         text,
    prescriber_id   text,
    cost            double precision,
    copay           double precision,
    data_version    bigint NOT NULL,
    PRIMARY KEY (person_id, event_id)
) PARTITION BY HASH (person_id);
CREATE INDEX direct_distribution_person_date_idx ON direct_distribution (person_id, dispensing_date);
CREATE INDEX direct_distribution_atc_idx ON direct_distribution (atc, dispensing_date);

-- Co-pay exemptions.
CREATE TABLE exemption (
    person_id    bigint NOT NULL,
    event_id     bigint NOT NULL DEFAULT nextval('flow_event_seq'),
    code         text NOT NULL,
    start_date   date NOT NULL,
    end_date     date,
    data_version bigint NOT NULL,
    PRIMARY KEY (person_id, event_id)
) PARTITION BY HASH (person_id);
CREATE INDEX exemption_person_date_idx ON exemption (person_id, start_date);
CREATE INDEX exemption_code_idx ON exemption (code, start_date);

-- Emergency room accesses; diagnoses in er_diagnosis.
CREATE TABLE er (
    person_id    bigint NOT NULL,
    access_id    text NOT NULL,
    arrival_date date NOT NULL,
    arrival_time time,
    triage       text,
    outcome      text,
    admitted     boolean,
    data_version bigint NOT NULL,
    PRIMARY KEY (person_id, access_id)
) PARTITION BY HASH (person_id);
CREATE INDEX er_person_date_idx ON er (person_id, arrival_date);

CREATE TABLE er_diagnosis (
    person_id    bigint NOT NULL,
    access_id    text NOT NULL,
    position     smallint NOT NULL,
    code         text NOT NULL,
    arrival_date date NOT NULL,
    data_version bigint NOT NULL,
    PRIMARY KEY (person_id, access_id, position)
) PARTITION BY HASH (person_id);
CREATE INDEX er_diagnosis_code_idx ON er_diagnosis (code, arrival_date);

-- Outpatient specialist care.
CREATE TABLE outpatient (
    person_id    bigint NOT NULL,
    event_id     bigint NOT NULL DEFAULT nextval('flow_event_seq'),
    service_date date NOT NULL,
    code         text NOT NULL,
    quantity     double precision NOT NULL,
    tariff       double precision,
    data_version bigint NOT NULL,
    PRIMARY KEY (person_id, event_id)
) PARTITION BY HASH (person_id);
CREATE INDEX outpatient_person_date_idx ON outpatient (person_id, service_date);
CREATE INDEX outpatient_code_idx ON outpatient (code, service_date);

-- CeDAP birth certificates; person_id is the mother.
CREATE TABLE cedap (
    person_id          bigint NOT NULL,
    cedap_id           text NOT NULL,
    delivery_date      date NOT NULL,
    gestational_weeks  smallint,
    delivery_mode      text,
    plurality          smallint,
    newborn_person_id  bigint,
    newborn_sex        text,
    birth_weight_g     integer,
    apgar_5            smallint,
    data_version       bigint NOT NULL,
    PRIMARY KEY (person_id, cedap_id)
) PARTITION BY HASH (person_id);
CREATE INDEX cedap_person_date_idx ON cedap (person_id, delivery_date);

-- Code dictionaries. A code is valid at date d when
-- valid_from <= d AND (valid_to IS NULL OR d <= valid_to); a row whose
-- valid_from is NULL is a known code that is never valid (e.g. an ICD-9-CM
-- code of the US CMS v32 list that the Italian 2007 version does not have).

-- ICD-9-CM diagnoses (kind 'dx') and procedures (kind 'proc').
CREATE TABLE dict_icd9cm (
    kind        text NOT NULL CHECK (kind IN ('dx', 'proc')),
    code        text NOT NULL,
    description text NOT NULL DEFAULT '',
    leaf_cms_v32 boolean NOT NULL,
    leaf_it2007  boolean,
    valid_from  date,
    valid_to    date,
    PRIMARY KEY (kind, code)
);

-- The national list repeats some codes (same code and dates under two
-- types, or two descriptions): rows are kept as given, keyed by id.
CREATE TABLE dict_exemption (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    code        text NOT NULL,
    kind        text NOT NULL,
    description text NOT NULL DEFAULT '',
    assignable  boolean NOT NULL,
    valid_from  date NOT NULL,
    valid_to    date
);
CREATE INDEX dict_exemption_code_idx ON dict_exemption (code, valid_from);

-- Products (AIC) as supplied by the region.
CREATE TABLE dict_product (
    aic            text NOT NULL,
    atc            text NOT NULL,
    name           text,
    units_per_pack double precision,
    ddd_per_pack   double precision,
    valid_from     date NOT NULL,
    valid_to       date,
    data_version   bigint NOT NULL,
    PRIMARY KEY (aic, valid_from)
);

-- Regional outpatient catalogue as supplied by the region.
CREATE TABLE dict_outpatient (
    code         text NOT NULL,
    description  text,
    tariff       double precision,
    valid_from   date NOT NULL,
    valid_to     date,
    data_version bigint NOT NULL,
    PRIMARY KEY (code, valid_from)
);

-- ATC structure; level follows from the code's length (1, 3, 4, 5, 7
-- characters give levels 1 to 5). Names and DDD as supplied.
CREATE TABLE dict_atc (
    code         text NOT NULL,
    name         text,
    ddd          double precision,
    ddd_unit     text,
    level        smallint GENERATED ALWAYS AS (
                     CASE length(code) WHEN 1 THEN 1 WHEN 3 THEN 2 WHEN 4 THEN 3
                                       WHEN 5 THEN 4 WHEN 7 THEN 5 END) STORED,
    data_version bigint NOT NULL,
    PRIMARY KEY (code)
);

-- Import history: one row per `beaver etl load` run, including the ones
-- that failed or were killed (state stays 'loading' until the next import
-- marks it 'abandoned').
CREATE TABLE etl_import (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    started_by    text NOT NULL,
    started_at    timestamptz NOT NULL DEFAULT now(),
    finished_at   timestamptz,
    import_date   date NOT NULL,
    state         text NOT NULL DEFAULT 'loading'
                  CHECK (state IN ('loading', 'published', 'unchanged', 'failed', 'abandoned')),
    data_version  bigint,
    rows_read     bigint NOT NULL DEFAULT 0,
    rows_published bigint NOT NULL DEFAULT 0,
    rows_rejected bigint NOT NULL DEFAULT 0,
    duration_ms   bigint,
    error         text,
    summary       jsonb NOT NULL DEFAULT '{}'
);

CREATE TABLE etl_import_file (
    import_id     bigint NOT NULL REFERENCES etl_import (id),
    file_no       integer NOT NULL,
    path          text NOT NULL,
    flow          text,
    sha256        text NOT NULL,
    bytes         bigint NOT NULL,
    state         text NOT NULL CHECK (state IN ('loading', 'staged', 'published', 'skipped', 'failed')),
    rows_read     bigint NOT NULL DEFAULT 0,
    rows_rejected bigint NOT NULL DEFAULT 0,
    error         text,
    PRIMARY KEY (import_id, file_no)
);
CREATE INDEX etl_import_file_hash_idx ON etl_import_file (sha256) WHERE state = 'published';

-- Rows refused by validation: which file, line and column, and why.
CREATE TABLE etl_quarantine (
    import_id   bigint NOT NULL REFERENCES etl_import (id),
    file_no     integer NOT NULL,
    line        bigint NOT NULL,
    column_name text NOT NULL,
    reason      text NOT NULL,
    value       text,
    detail      text
);
CREATE INDEX etl_quarantine_import_idx ON etl_quarantine (import_id, reason);

-- Published data versions: version N is the state after import N's publish.
CREATE TABLE etl_data_version (
    version      bigint PRIMARY KEY,
    import_id    bigint NOT NULL REFERENCES etl_import (id),
    published_at timestamptz NOT NULL DEFAULT now()
);

-- Diagnostics of a data version, as a JSON document (docs/flows.md).
CREATE TABLE etl_diagnostics (
    data_version bigint PRIMARY KEY,
    generated_at timestamptz NOT NULL DEFAULT now(),
    report       jsonb NOT NULL
);

-- Areas of interest, materialized after each import.
CREATE TABLE area (
    name         text PRIMARY KEY,
    title        text NOT NULL,
    definition   jsonb NOT NULL,
    data_version bigint NOT NULL,
    persons      bigint NOT NULL
);

CREATE TABLE area_person (
    area         text NOT NULL,
    person_id    bigint NOT NULL,
    entry_date   date NOT NULL,
    entry_source text NOT NULL,
    data_version bigint NOT NULL,
    PRIMARY KEY (person_id, area)
) PARTITION BY HASH (person_id);
CREATE INDEX area_person_area_idx ON area_person (area, entry_date);
