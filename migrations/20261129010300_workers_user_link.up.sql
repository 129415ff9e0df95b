-- A worker login must point at an existing worker record: without the key an
-- account linked to a not-yet-used id took over whoever was registered next.
-- (The accounts migration comes before workers, so the key is added here.)
ALTER TABLE users ADD CONSTRAINT users_worker_fk FOREIGN KEY (worker_id) REFERENCES workers (id);
