-- The orders that had arrived by `load_date`.
select
    id as order_id,
    customer_id,
    order_date,
    status
from {{ ref('raw_orders') }}
where loaded_on <= cast('{{ var("load_date") }}' as date)
