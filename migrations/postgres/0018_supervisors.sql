-- Supervisors, and customers' ownership and distribution point (issue 18). Paired with the other
-- backend's 0018.
ALTER TABLE users DROP CONSTRAINT users_role_check;
ALTER TABLE users ADD CONSTRAINT users_role_check CHECK (role IN ('sales', 'branch_marketing', 'supervisor', 'hq', 'admin'));
CREATE INDEX users_branch_role ON users (branch_id, role);

-- Who owns the customer (the JMS's "Kepemilikan Agent Klien": J&T's own, HQ, or an agent's) and
-- the distribution point it belongs to ("DP Kepemilikan").
ALTER TABLE customers ADD COLUMN ownership TEXT NOT NULL DEFAULT 'hq' CHECK (ownership IN ('hq', 'agent'));
ALTER TABLE customers ADD COLUMN dp TEXT;
CREATE INDEX customers_dp ON customers (branch_id, dp);
