-- course-report: Sunbird's CourseReportModel, one row per course (and, for a Blended Program,
-- per batch), one CSV per MDO that provides the course.
--
-- Sunbird source (read, not copied): sunbird-cb/sunbird-core-dataproducts @ c8e3b7d3,
-- dashboard/report/course/CourseReportModel.scala ("Course:N" below), .../enrolment/UserEnrolmentModel.scala
-- ("Enr:N"), .../warehouse/DataWarehouseModel.scala ("DW:N"). pipec reads the warehouse tables:
--   content          written from this report's own rows `fullDF` (Course:191-214), one row per
--                    content_id (DW:40 dropDuplicates("content_id"), loaded by DW:34-42);
--   user_enrolments  the enrolments the counts come from (Enr:151-175, DW:103-112).
--
-- Columns and their order are the select of Course:154-179 less the two columns dropped before
-- the MDO-wise write (courseID, courseOrgID: Course:184). `mdoid` is the partition column
-- (generateReport(..., "mdoid", "ContentReport"): Course:185); Spark's partitionBy keeps it out of
-- the CSV, and so does the spec.
WITH enrolment_counts AS (
    -- Course:114-125: per course, the number of enrolments and of each completion status, and
    -- the first and last completion. Statuses are userCourseCompletionStatus, which the
    -- warehouse keeps as user_consumption_status (Enr:162).
    SELECT
        content_id,
        count(*)                                                                 AS enrolled,
        sum(CASE WHEN user_consumption_status = 'not-started' THEN 1 ELSE 0 END) AS not_started,
        sum(CASE WHEN user_consumption_status = 'in-progress' THEN 1 ELSE 0 END) AS in_progress,
        sum(CASE WHEN user_consumption_status = 'completed' THEN 1 ELSE 0 END)   AS completed,
        -- min/max of courseCompletedTimestamp (Course:116-117). The warehouse DDL has no
        -- last_completed_on; first_completed_on ("yyyy-MM-dd HH:mm:ss", Enr:62,163) is the same
        -- instant unless a user completed the course more than once. The text form sorts in
        -- time order.
        min(first_completed_on)                                                  AS earliest_completed,
        max(first_completed_on)                                                  AS latest_completed
    FROM user_enrolments
    GROUP BY content_id
)
SELECT
    c.content_status           AS "Content_Status",     -- courseStatus (Course:158)
    c.content_provider_name    AS "Content_Provider",   -- courseOrgName (Course:159)
    c.content_name             AS "Content_Name",       -- courseName (Course:160)
    c.content_type             AS "Content_Type",       -- category (Course:161)
    -- Batch columns are set for Blended Programs only (Course:131-141); Sunbird writes one row
    -- per batch, the warehouse keeps one batch per content (DW:40). Dates as yyyy-MM-dd (Course:148-149).
    c.batch_id                 AS "Batch_Id",           -- batchID (Course:162)
    c.batch_name               AS "Batch_Name",         -- courseBatchName (Course:163)
    c.batch_start_date         AS "Batch_Start_Date",   -- courseBatchStartDate (Course:164)
    c.batch_end_date           AS "Batch_End_Date",     -- courseBatchEndDate (Course:165)
    c.content_duration         AS "Content_Duration",   -- durationFormat("courseDuration"), HH:mm:ss (Course:146,166)
    -- Counts (Course:167-170). A course without enrolments gets empty cells, not 0: the
    -- aggregate is left-joined (Course:128).
    a.enrolled                 AS "Enrolled",
    a.not_started              AS "Not_Started",
    a.in_progress              AS "In_Progress",
    a.completed                AS "Completed",
    -- avg(userRating) per course (Course:103-106,171); the warehouse keeps it as a 32-bit float
    -- (DW:39), so it matches Sunbird's value to about 7 significant digits.
    c.content_rating           AS "Content_Rating",
    c.last_published_on        AS "Last_Published_On",  -- to_date(courseLastPublishedOn, "dd/MM/yyyy") as yyyy-MM-dd (Course:147,172,205)
    -- to_date(earliest/latestCourseCompleted) written as yyyy-MM-dd (Course:124-125,173-174):
    -- the date part of the warehouse's "yyyy-MM-dd HH:mm:ss", same time zone.
    substr(a.earliest_completed, 1, 10) AS "First_Completed_On",
    substr(a.latest_completed, 1, 10)   AS "Last_Completed_On",
    c.content_retired_on       AS "Content_Retired_On", -- lastStatusChangedOn when Retired (Course:150-151,175)
    c.total_certificates_issued AS "Total_Certificates_Issued", -- sum(issuedCertificateCountPerContent) (Course:122,176,209)
    c.content_provider_id      AS mdoid,                -- courseOrgID (Course:177): the partition column
    -- date_format(current_timestamp(), "dd/MM/yyyy HH:mm:ss a") (Course:152,178); now() in UTC.
    to_char(now(), '%d/%m/%Y %H:%M:%S %p') AS "Report_Last_Generated_On"
FROM content c
LEFT JOIN enrolment_counts a ON a.content_id = c.content_id
-- Course:145. content holds only these statuses already (it is written after this filter);
-- the filter is kept so that a warehouse loaded otherwise gives the same report.
WHERE c.content_status IN ('Live', 'Draft', 'Retired', 'Review')
  -- A course without a provider org has no mdoid; Spark writes it under
  -- mdoid=__HIVE_DEFAULT_PARTITION__, which no MDO receives (see user_report.sql).
  AND coalesce(c.content_provider_id, '') <> ''
-- Sunbird's row order is unspecified; this one is fixed so that outputs compare.
ORDER BY mdoid, c.content_id
