DROP TABLE payout_batch_items;
DROP FUNCTION payout_batch_items_keep();
DROP FUNCTION payout_batch_items_apply();
DROP TABLE payout_batches;
