"""The four warehouse tables the user-enrolment report reads, with the columns (in the
files' order) and types the bench spec (scripts/bench/spec/pipeline.yaml) declares for the
CSV files, for the DuckDB and PySpark runs to read the same files the same way."""

# (column, spec type): string, int, float, bool, date -- as in scripts/bench/spec/pipeline.yaml.
TABLES = {
    "user_enrolments": [
        ("user_id", "string"), ("batch_id", "string"), ("content_id", "string"),
        ("content_progress_percentage", "float"), ("last_accessed_on", "string"),
        ("certificate_generated", "string"), ("certificate_generated_on", "string"),
        ("user_rating", "float"), ("resource_count_consumed", "int"), ("enrolled_on", "string"),
        ("user_consumption_status", "string"), ("data_last_generated_on", "string"),
        ("live_cbp_plan_mandate", "bool"), ("certificate_id", "string"),
        ("first_completed_on", "string"),
    ],
    "user_detail": [
        ("user_id", "string"), ("mdo_id", "string"), ("full_name", "string"),
        ("designation", "string"), ("email", "string"), ("phone_number", "string"),
        ("groups", "string"), ("tag", "string"), ("roles", "string"), ("gender", "string"),
        ("category", "string"), ("created_by_id", "string"), ("external_system", "string"),
        ("external_system_id", "string"), ("is_verified_karmayogi", "string"),
        ("mdo_created_on", "date"), ("user_registration_date", "string"),
        ("data_last_generated_on", "string"), ("weekly_claps_day_before_yesterday", "string"),
        ("status", "int"), ("no_of_karma_points", "int"), ("marked_as_not_my_user", "bool"),
    ],
    "org_hierarchy": [
        ("mdo_id", "string"), ("mdo_name", "string"), ("is_content_provider", "string"),
        ("ministry", "string"), ("department", "string"), ("organization", "string"),
        ("data_last_generated_on", "string"), ("mdo_created_on", "date"),
    ],
    "content": [
        ("content_id", "string"), ("content_provider_id", "string"),
        ("content_provider_name", "string"), ("content_name", "string"),
        ("content_type", "string"), ("batch_id", "string"), ("batch_name", "string"),
        ("batch_start_date", "string"), ("batch_end_date", "string"),
        ("content_duration", "string"), ("content_rating", "float"),
        ("last_published_on", "string"), ("content_retired_on", "string"),
        ("content_status", "string"), ("resource_count", "int"),
        ("total_certificates_issued", "int"), ("content_substatus", "string"),
        ("data_last_generated_on", "string"), ("language", "string"),
    ],
}

DUCKDB = {"string": "VARCHAR", "int": "BIGINT", "float": "DOUBLE", "bool": "BOOLEAN", "date": "DATE"}
SPARK = {"string": "STRING", "int": "BIGINT", "float": "DOUBLE", "bool": "BOOLEAN", "date": "DATE"}
