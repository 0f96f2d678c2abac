-- Users per MDO (columns of the warehouse's user_detail table).
SELECT mdo_id,
       user_id,
       full_name,
       designation,
       email,
       is_verified_karmayogi,
       user_registration_date
FROM users
ORDER BY mdo_id, user_id
