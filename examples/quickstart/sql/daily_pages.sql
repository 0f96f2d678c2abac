-- Views per page and channel for one day of the `unique` backup.
SELECT channel, page, count(*) AS views
FROM events
WHERE eid = 'PAGE_VIEW'
GROUP BY channel, page
ORDER BY channel, views DESC
