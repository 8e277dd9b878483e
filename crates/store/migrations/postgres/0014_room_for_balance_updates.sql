-- The payment writer updates, in each transaction, the balance of every account it moves money
-- in and the month's flow of every pair of accounts (about 10,000 of each in a transaction of
-- 40,000 random payments). PostgreSQL writes an updated row as a new version; when the version
-- fits on the row's own page and no indexed column changed, the update is "heap-only" (HOT): no
-- new index entry, and the old versions are pruned from the page as it is next written. With
-- the pages full (the default fillfactor, 100), about 3 updates in 4 were not: over a month of
-- 1,000,000 payments in transactions of 40,000, `accounts` grew to 13 MB and `transfer_sums` to
-- 22 MB for 10,000 and 20,000 rows, their keys' indexes with them, and each update searched
-- through the dead versions.
--
-- Pages filled to half leave room: measured on copies of one month (BENCHMARKS.md, "PostgreSQL:
-- room on the pages of balances and flows"), 255,620 of 255,827 balance updates and every flow
-- update were HOT, the tables stayed at 2 MB and 5.5 MB, and payments went 11-12 % faster.
--
-- A database made before this migration keeps its full pages until they are written again
-- (`VACUUM FULL accounts, transfer_sums` rewrites them at once); new pages leave the room.
ALTER TABLE accounts SET (fillfactor = 50);
ALTER TABLE transfer_sums SET (fillfactor = 50);
