-- Empties and deposits on sales (issue 16). A sale line may be take-away: it charges the
-- deposit of the containers its bottles come in (`deposit`, the line's total in the bar's minor
-- unit) and no empty comes back; a line consumed on the premises returns its empties to the
-- bar in the sale's own transaction (functions/30_stock_sell.sql). `total` keeps its v1.2
-- meaning (the drinks); `deposit_total` is charged beside it. Defaults keep older sales as
-- they were (on the premises, no deposit).
ALTER TABLE sale_lines ADD COLUMN take_away boolean NOT NULL DEFAULT false,
                       ADD COLUMN deposit bigint NOT NULL DEFAULT 0 CHECK (deposit >= 0);
ALTER TABLE sales ADD COLUMN deposit_total bigint NOT NULL DEFAULT 0 CHECK (deposit_total >= 0);
