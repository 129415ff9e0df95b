DROP TABLE payout_batch_items;
DROP FUNCTION payout_batch_items_keep();
DROP FUNCTION payout_batch_items_totals_insert();
DROP FUNCTION payout_batch_items_totals();
DROP FUNCTION payout_batch_items_check();
DROP TABLE payout_batches;
