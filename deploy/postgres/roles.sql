-- The registry's two PostgreSQL roles and its database (docs/deployment.md, "Database roles").
--
--   owner: owns the database, its tables and triggers; `manage.py migrate`, backup, restore and
--          key rotation connect as it (DATABASE_ADMIN_URL). Never used by the running app.
--   app:   what web, worker and beat connect as (DATABASE_URL). Not a superuser, owns nothing;
--          migrate grants it SELECT, INSERT, UPDATE, DELETE on ordinary tables and only SELECT,
--          INSERT on the audit trail and access logs (registry/db_roles.py).
--
-- Run as a superuser, connected to any database, e.g.:
--   psql -U postgres -d postgres -v owner=registry_owner -v app=registry_app -v dbname=registry \
--        -v owner_password=... -v app_password=... -f deploy/postgres/roles.sql
-- Optional: -v owner_createdb=CREATEDB (the test suite creates its own test database as the owner).
-- Safe to run again: it creates what is missing and resets the roles' attributes.
\set ON_ERROR_STOP on
\if :{?owner_createdb}
\else
\set owner_createdb NOCREATEDB
\endif

SELECT format('CREATE ROLE %I', :'owner') WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = :'owner') \gexec
SELECT format('CREATE ROLE %I', :'app') WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = :'app') \gexec
ALTER ROLE :"owner" WITH LOGIN NOSUPERUSER NOCREATEROLE NOREPLICATION NOBYPASSRLS :owner_createdb;
ALTER ROLE :"app" WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS;
\if :{?owner_password}
ALTER ROLE :"owner" WITH PASSWORD :'owner_password';
\endif
\if :{?app_password}
ALTER ROLE :"app" WITH PASSWORD :'app_password';
\endif

SELECT format('CREATE DATABASE %I OWNER %I', :'dbname', :'owner')
 WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = :'dbname') \gexec
ALTER DATABASE :"dbname" OWNER TO :"owner";
REVOKE ALL ON DATABASE :"dbname" FROM PUBLIC;
GRANT CONNECT, TEMPORARY ON DATABASE :"dbname" TO :"app";

\connect :"dbname"
ALTER SCHEMA public OWNER TO :"owner";
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
GRANT USAGE ON SCHEMA public TO :"app";

-- A database from before the two roles (its tables owned by a superuser): hand the schema's
-- tables, free-standing sequences and functions to the owner. Sequences of identity and
-- serial columns follow their table. Nothing to do on a new database.
SELECT format('ALTER TABLE public.%I OWNER TO %I', tablename, :'owner')
  FROM pg_tables WHERE schemaname = 'public' AND tableowner <> :'owner' \gexec
SELECT format('ALTER SEQUENCE %s OWNER TO %I', c.oid::regclass, :'owner')
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE n.nspname = 'public' AND c.relkind = 'S' AND pg_get_userbyid(c.relowner) <> :'owner'
   AND NOT EXISTS (SELECT FROM pg_depend d WHERE d.objid = c.oid AND d.deptype IN ('a', 'i')) \gexec
SELECT format('ALTER FUNCTION %s OWNER TO %I', p.oid::regprocedure, :'owner')
  FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
 WHERE n.nspname = 'public' AND pg_get_userbyid(p.proowner) <> :'owner' \gexec
