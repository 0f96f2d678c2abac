-- user-report: Sunbird's UserReportModel, one row per user, one CSV per MDO.
--
-- Sunbird source (read, not copied): sunbird-cb/sunbird-core-dataproducts @ c8e3b7d3,
-- dashboard/report/user/UserReportModel.scala ("User:N" below) and .../warehouse/DataWarehouseModel.scala
-- ("DW:N"). Sunbird builds this report from Cassandra snapshots; pipec builds it from the two
-- warehouse tables those same snapshots end up in:
--   user_detail    written from the report's own rows (User:75-102), loaded by DW:26-32;
--   org_hierarchy  the `orgHierarchy` cache (DW:81-85), which is also what Sunbird's
--                  orgHierarchyDataframe() joins for Ministry and Department (User:24,31).
--
-- Columns and their order are the select of User:39-63 less the three columns dropped before the
-- MDO-wise write (userID, userOrgID, userCreatedBy: User:68). `mdoid` is the partition column
-- (generateReport(..., "mdoid", "UserReport"): User:70); Spark's partitionBy keeps it out of the
-- CSV, and so does the spec (batch.yaml).
SELECT
    u.full_name                AS "Full_Name",        -- fullName (User:43), "first last" (concat_ws)
    u.designation              AS "Designation",      -- professionalDetails.designation (User:44)
    u.email                    AS "Email",            -- personalDetails.primaryEmail (User:45)
    u.phone_number             AS "Phone_Number",     -- personalDetails.mobile (User:46)
    u.groups                   AS "Group",            -- professionalDetails.group (User:47)
    u.tag                      AS "Tag",              -- concat_ws(", ", additionalProperties.tag) (User:33,48)
    o.ministry                 AS "Ministry",         -- ministry_name = org_hierarchy.ministry (User:49)
    o.department               AS "Department",       -- dept_name = org_hierarchy.department (User:50)
    -- userOrgName is the org table's orgname (User:51); org_hierarchy.mdo_name is that same
    -- orgname. Not org_hierarchy.organization, which holds it only when the MDO has both a
    -- ministry and a department above it.
    o.mdo_name                 AS "Organization",
    -- from_unixtime(userCreatedTimestamp, "dd/MM/yyyy") (User:52). The warehouse holds the same
    -- instant as "yyyy-MM-dd HH:mm:ss" in the same time zone (User:90), so reordering the date
    -- part gives the same day; a value not in that form gives an empty cell, not an error.
    CASE WHEN u.user_registration_date LIKE '____-__-__%'
         THEN substr(u.user_registration_date, 9, 2) || '/' || substr(u.user_registration_date, 6, 2)
              || '/' || substr(u.user_registration_date, 1, 4)
    END                        AS "User_Registration_Date",
    u.roles                    AS "Roles",            -- concat_ws(", ", collect_list(role)) (User:20,53)
    u.gender                   AS "Gender",           -- personalDetails.gender (User:54)
    u.category                 AS "Category",         -- personalDetails.category (User:55)
    u.external_system          AS "External_System",  -- additionalProperties.externalSystem (User:56)
    u.external_system_id       AS "External_System_Id", -- additionalProperties.externalSystemId (User:57)
    u.mdo_id                   AS mdoid,              -- userOrgID (User:58): the partition column
    -- date_format(current_timestamp(), "dd/MM/yyyy HH:mm:ss a") (User:38,59): 24-hour clock and
    -- an AM/PM marker, as Sunbird writes it. now() is the run's start, in UTC.
    to_char(now(), '%d/%m/%Y %H:%M:%S %p') AS "Report_Last_Generated_On",
    -- from_unixtime(userOrgCreatedDate, "dd/MM/yyyy") (User:60): the org's createddate, which the
    -- warehouse keeps as org_hierarchy.mdo_created_on (a DATE, DW:82). user_detail.mdo_created_on
    -- is never written by Sunbird (User:78-100 has no such column) and is not used.
    CASE WHEN CAST(o.mdo_created_on AS VARCHAR) LIKE '____-__-__%'
         THEN substr(CAST(o.mdo_created_on AS VARCHAR), 9, 2) || '/'
              || substr(CAST(o.mdo_created_on AS VARCHAR), 6, 2) || '/'
              || substr(CAST(o.mdo_created_on AS VARCHAR), 1, 4)
    END                        AS "MDO_Created_On",
    u.is_verified_karmayogi    AS "Verified Karmayogi", -- userVerified, false when unset (User:61)
    u.weekly_claps_day_before_yesterday AS weekly_claps_day_before_yesterday -- total_claps (User:36,62)
FROM user_detail u
-- left join: a user whose org has no hierarchy row keeps its row, with empty Ministry,
-- Department, Organization and MDO_Created_On (User:31).
LEFT JOIN org_hierarchy o ON o.mdo_id = u.mdo_id
-- No status filter: Sunbird lists every user of the org, active or not (User:28-36 filter nothing).
-- A user without an org has userOrgID "" (DataUtil.userDataFrame fills a missing rootorgid with
-- ""); generateReport names files only for non-empty ids and Spark writes such rows under
-- mdoid=__HIVE_DEFAULT_PARTITION__, which no MDO receives. They are left out here.
WHERE coalesce(u.mdo_id, '') <> ''
-- user_detail has one row per user already (dropDuplicates("userID"), User:32, before it is
-- written). Sunbird's row order is unspecified; this one is fixed so that outputs compare.
ORDER BY mdoid, u.user_id
