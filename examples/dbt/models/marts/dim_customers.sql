-- Customers only: nothing here depends on orders.
select
    customer_id,
    first_name || ' ' || last_name as customer_name,
    country
from {{ ref('stg_customers') }}
