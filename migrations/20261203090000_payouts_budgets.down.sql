DROP TABLE payout_budgets;
