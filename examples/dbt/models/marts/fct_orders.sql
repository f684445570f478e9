select
    op.order_id,
    op.order_date,
    op.status,
    op.amount,
    c.customer_id,
    c.first_name || ' ' || c.last_name as customer_name,
    c.country
from {{ ref('int_order_payments') }} as op
join {{ ref('stg_customers') }} as c on c.customer_id = op.customer_id
