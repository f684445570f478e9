-- Singular test: no order may have a negative amount paid. Rows returned are failures.
select order_id, amount
from {{ ref('int_order_payments') }}
where amount < 0
