DROP FUNCTION payouts_stats_rebuild();
