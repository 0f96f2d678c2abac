-- Enrolments, completions and mean progress per course (warehouse user_enrolments columns).
SELECT content_id,
       count(*) AS enrolments,
       sum(CASE WHEN user_consumption_status = 'completed' THEN 1 ELSE 0 END) AS completions,
       avg(content_progress_percentage) AS mean_progress
FROM user_enrolments
GROUP BY content_id
ORDER BY enrolments DESC
