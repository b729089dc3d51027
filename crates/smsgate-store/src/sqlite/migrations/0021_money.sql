-- Amounts in minor units: 1 credit = 10,000, so that a segment can cost
-- 0.0350. Every stored amount was whole credits until now.
UPDATE accounts SET balance = balance * 10000;
UPDATE category_balances SET balance = balance * 10000;
UPDATE ledger SET amount = amount * 10000;
UPDATE prices SET price = price * 10000;
UPDATE messages SET cost = cost * 10000;
