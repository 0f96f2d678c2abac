-- user-enrolment-report: Sunbird's UserEnrolmentModel, one row per enrolment (user, course,
-- batch), one CSV per MDO of the enrolled user.
--
-- Sunbird source (read, not copied): sunbird-cb/sunbird-core-dataproducts,
-- dashboard/report/enrolment/UserEnrolmentModel.scala ("Enr:N" below), .../course/CourseReportModel.scala
-- ("Course:N"), .../user/UserReportModel.scala ("User:N"), .../warehouse/DataWarehouseModel.scala ("DW:N").
-- pipec reads the warehouse tables:
--   user_enrolments  written from this report's own rows `df` (Enr:151-175; loaded by DW:103-112),
--                    so every row of it is one row of Sunbird's report;
--   user_detail      the user columns (User:75-102), the same user profile fields Enr:93-127 selects;
--   org_hierarchy    Ministry, Department, Organization (DW:81-85; orgHierarchyDataframe(), Enr:28-30);
--   content          the course columns, written by the course report (Course:191-213, DW:34-42).
--
-- Columns and their order are the select of Enr:93-136 less the nine columns dropped before the
-- MDO-wise write (Enr:144). `mdoid` is the partition column (generateReport(..., "mdoid",
-- "ConsumptionReport"): Enr:145); Spark's partitionBy keeps it out of the CSV, and so does the spec.
SELECT
    u.full_name                AS "Full_Name",          -- fullName (Enr:98)
    u.designation              AS "Designation",        -- professionalDetails.designation (Enr:99)
    u.email                    AS "Email",              -- personalDetails.primaryEmail (Enr:100)
    u.phone_number             AS "Phone_Number",       -- personalDetails.mobile (Enr:101)
    u.groups                   AS "Group",              -- professionalDetails.group (Enr:102)
    u.tag                      AS "Tag",                -- concat_ws(", ", additionalProperties.tag) (Enr:68,103)
    o.ministry                 AS "Ministry",           -- ministry_name (Enr:104)
    o.department               AS "Department",         -- dept_name (Enr:105)
    o.mdo_name                 AS "Organization",       -- userOrgName, the org's orgname (Enr:106)
    c.content_provider_name    AS "Content_Provider",   -- courseOrgName (Enr:107)
    c.content_name             AS "Content_Name",       -- courseName (Enr:108)
    c.content_type             AS "Content_Type",       -- category (Enr:109)
    c.content_duration         AS "Content_Duration",   -- durationFormat("courseDuration"), HH:mm:ss (Enr:59,110; Course:146)
    e.batch_id                 AS "Batch_Id",           -- batchID (Enr:111)
    -- Batch name and dates exist only for Blended Programs, joined on (courseID, batchID)
    -- (Enr:46-53). The warehouse keeps one batch per content (DW:40 dropDuplicates("content_id")),
    -- so they show only for an enrolment in that batch. Dates: to_date(..., "dd/MM/yyyy")
    -- written as yyyy-MM-dd (Enr:65-66); content holds the same conversion (Course:148-149).
    CASE WHEN c.batch_id = e.batch_id THEN c.batch_name END       AS "Batch_Name",       -- (Enr:112)
    CASE WHEN c.batch_id = e.batch_id THEN c.batch_start_date END AS "Batch_Start_Date", -- (Enr:113)
    CASE WHEN c.batch_id = e.batch_id THEN c.batch_end_date END   AS "Batch_End_Date",   -- (Enr:114)
    e.enrolled_on              AS "Enrolled_On",        -- date_format(courseEnrolledTimestamp, "yyyy-MM-dd HH:mm:ss") (Enr:61,115,159)
    e.user_consumption_status  AS "Status",             -- userCourseCompletionStatus: not-started / in-progress / completed (Enr:116,162)
    -- round(completionPercentage, 2) (Enr:67,117). The warehouse stores it as a 32-bit float
    -- (DW:106 casts it to "float"), e.g. 33.33 comes back as 33.33000183...; rounding to 2 places
    -- again gives Sunbird's value.
    round(e.content_progress_percentage, 2) AS "Content_Progress_Percentage",
    c.last_published_on        AS "Last_Published_On",  -- to_date(courseLastPublishedOn, "dd/MM/yyyy") as yyyy-MM-dd (Enr:64,118; Course:147,205)
    c.content_retired_on       AS "Content_Retired_On", -- lastStatusChangedOn when Retired, else empty (Enr:71-72,119; Course:150-151,206)
    -- date_format(courseCompletedTimestamp, "yyyy-MM-dd HH:mm:ss") (Enr:60,120), which Sunbird
    -- writes to the warehouse as last_completed_on (Enr:165); the warehouse DDL has no such
    -- column, so this is first_completed_on (Enr:62,163), the same value unless the course was
    -- completed more than once.
    e.first_completed_on       AS "Completed_On",
    e.certificate_generated    AS "Certificate_Generated", -- 'Yes' when issuedCertificateCount > 0 else 'No' (Enr:70,121,168)
    e.user_rating              AS "User_Rating",        -- userRating (Enr:56,122,170)
    u.gender                   AS "Gender",             -- personalDetails.gender (Enr:123)
    u.category                 AS "Category",           -- personalDetails.category (Enr:124)
    u.external_system          AS "External_System",    -- additionalProperties.externalSystem (Enr:125)
    u.external_system_id       AS "External_System_Id", -- additionalProperties.externalSystemId (Enr:126)
    u.mdo_id                   AS mdoid,                -- userOrgID (Enr:127): the partition column
    e.certificate_id           AS "Certificate_ID",     -- certificateID (Enr:73,133,171)
    -- date_format(current_timestamp(), "dd/MM/yyyy HH:mm:ss a") (Enr:69,134); now() in UTC.
    to_char(now(), '%d/%m/%Y %H:%M:%S %p') AS "Report_Last_Generated_On",
    e.live_cbp_plan_mandate    AS "Live_CBP_Plan_Mandate" -- true when a Live CBP plan assigns the course (Enr:78-91,135,172)
FROM user_enrolments e
-- Sunbird left-joins the user (DataUtil.allCourseProgramCompletionWithDetailsDataFrame); an
-- enrolment without a user, or of a user without an org, has no mdoid and lands in
-- mdoid=__HIVE_DEFAULT_PARTITION__, which no MDO receives (see user_report.sql). An inner join
-- plus the WHERE below leaves out exactly those rows.
JOIN user_detail u ON u.user_id = e.user_id
LEFT JOIN org_hierarchy o ON o.mdo_id = u.mdo_id
-- Left join: the report keeps an enrolment whatever the course's status (Enr:35 filters only
-- the category, which user_enrolments already reflects), while content holds only courses in
-- status Live, Draft, Retired or Review (Course:145); other courses give empty course columns.
LEFT JOIN content c ON c.content_id = e.content_id
WHERE coalesce(u.mdo_id, '') <> ''
-- user_enrolments has one row per (user_id, content_id, batch_id) (its primary key; Enr:75,174).
-- Sunbird's row order is unspecified; this one is fixed so that outputs compare.
ORDER BY mdoid, e.user_id, e.content_id, e.batch_id
