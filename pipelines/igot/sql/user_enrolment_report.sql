-- Enrolments per user and course, with the user's MDO (columns of the warehouse's
-- user_enrolments and user_detail tables, ../shared/sunbird/warehouse/warehouse-schema.sql).
SELECT u.mdo_id,
       u.user_id,
       u.full_name,
       u.designation,
       e.content_id,
       e.batch_id,
       e.enrolled_on,
       e.content_progress_percentage,
       e.user_consumption_status,
       e.certificate_generated,
       e.certificate_generated_on
FROM user_enrolments e
JOIN users u ON u.user_id = e.user_id
ORDER BY u.mdo_id, u.user_id, e.content_id
