#!/usr/bin/env Rscript
# Reference values for analytics/stats, computed with R's survival package.
#
# Run from the project root:  Rscript bench/r_reference/make_fixtures.R
# Writes CSV datasets and JSON results into tests/fixtures/r_reference/.
# Python tests read those files only, so R is not needed to run the tests.

suppressPackageStartupMessages({
  library(survival)
  library(jsonlite)
})

out_dir <- file.path("tests", "fixtures", "r_reference")
dir.create(out_dir, recursive = TRUE, showWarnings = FALSE)

write_csv <- function(df, name) {
  write.csv(df, file.path(out_dir, name), row.names = FALSE, na = "")
}
write_fixture <- function(x, name) {
  write_json(x, file.path(out_dir, name), digits = NA, auto_unbox = TRUE,
             pretty = TRUE, na = "null")
}

# ---------------------------------------------------------------- datasets --

# lung: status recoded to 0 = censored, 1 = died.
lung_df <- data.frame(
  time = lung$time, event = lung$status - 1L, age = lung$age,
  sex = lung$sex, ph_ecog = lung$ph.ecog, ph_karno = lung$ph.karno,
  wt_loss = lung$wt.loss
)
write_csv(lung_df, "lung.csv")

# veteran: celltype dummy-coded against squamous so Python needs no factor
# handling; trt recoded to 0 = standard, 1 = test.
vet_df <- data.frame(
  time = veteran$time, event = veteran$status, trt = veteran$trt - 1L,
  celltype = as.character(veteran$celltype),
  smallcell = as.integer(veteran$celltype == "smallcell"),
  adeno = as.integer(veteran$celltype == "adeno"),
  large = as.integer(veteran$celltype == "large"),
  karno = veteran$karno, diagtime = veteran$diagtime, age = veteran$age,
  prior = as.integer(veteran$prior == 10)
)
write_csv(vet_df, "veteran.csv")

# Synthetic registry-like cohort: three groups, times rounded to whole weeks
# (many ties), 40% delayed entry. Left-truncated: people who died before
# their entry time are never seen, as in a real registry.
set.seed(20250522)
n0 <- 400
grp <- sample(c("A", "B", "C"), n0, replace = TRUE)
x1 <- round(rnorm(n0), 3)
x2 <- rbinom(n0, 1, 0.4)
lin <- 0.5 * x1 - 0.4 * x2 + ifelse(grp == "B", 0.3, ifelse(grp == "C", -0.35, 0))
t_event <- rexp(n0, rate = exp(lin) / 60)
t_cens <- runif(n0, 20, 150)
delayed <- runif(n0) < 0.4
entry <- ifelse(delayed, round(runif(n0, 1, 30)), 0)
exit <- ceiling(pmin(t_event, t_cens))
event <- as.integer(t_event <= t_cens)
keep <- exit > entry
syn <- data.frame(id = seq_len(n0), group = grp, x1 = x1, x2 = x2,
                  entry = entry, exit = exit, event = event)[keep, ]
syn <- syn[seq_len(min(nrow(syn), 300)), ]
write_csv(syn, "synthetic.csv")

# Tiny datasets where survival hits exactly 0.5, to pin down R's median rule
# (midpoint of the flat stretch, or of stretch and last time).
tiny <- rbind(
  data.frame(dataset = "half_then_more", time = 1:8,
             event = c(1, 1, 1, 1, 1, 0, 1, 0)),
  data.frame(dataset = "half_at_end", time = 1:4, event = c(1, 1, 0, 0))
)
write_csv(tiny, "tiny.csv")

# ------------------------------------------------------------ Kaplan-Meier --

km_fixture <- function(fit, times) {
  q <- quantile(fit, probs = 0.5, conf.int = TRUE)
  s <- summary(fit, times = times, extend = FALSE)
  list(
    time = fit$time, n_risk = fit$n.risk, n_event = fit$n.event,
    n_censor = fit$n.censor, surv = fit$surv,
    std_err_log = fit$std.err, lower = fit$lower, upper = fit$upper,
    median = unname(q$quantile), median_lower = unname(q$lower),
    median_upper = unname(q$upper),
    at_times = list(time = s$time, surv = s$surv, lower = s$lower,
                    upper = s$upper, n_risk = s$n.risk),
    n = fit$n, events = sum(fit$n.event)
  )
}
km <- list(
  lung = km_fixture(survfit(Surv(time, event) ~ 1, data = lung_df,
                            conf.type = "log-log"), c(30, 365, 640)),
  lung_male = km_fixture(survfit(Surv(time, event) ~ 1,
                                 data = subset(lung_df, sex == 1),
                                 conf.type = "log-log"), c(365, 640)),
  veteran = km_fixture(survfit(Surv(time, event) ~ 1, data = vet_df,
                               conf.type = "log-log"), c(30, 100, 365)),
  synthetic_no_entry = km_fixture(survfit(Surv(exit, event) ~ 1, data = syn,
                                          conf.type = "log-log"), c(20, 52, 100)),
  synthetic_delayed_entry = km_fixture(
    survfit(Surv(entry, exit, event) ~ 1, data = syn, conf.type = "log-log"),
    c(20, 52, 100)),
  tiny_half_then_more = km_fixture(
    survfit(Surv(time, event) ~ 1, data = subset(tiny, dataset == "half_then_more"),
            conf.type = "log-log"), c(4, 5)),
  tiny_half_at_end = km_fixture(
    survfit(Surv(time, event) ~ 1, data = subset(tiny, dataset == "half_at_end"),
            conf.type = "log-log"), c(2, 3))
)
write_fixture(km, "km.json")

# ---------------------------------------------------------------- log-rank --

lr_fixture <- function(sd) {
  list(groups = sub(".*=", "", names(sd$n)), n = as.vector(sd$n),
       observed = as.vector(sd$obs), expected = as.vector(sd$exp),
       chisq = sd$chisq, df = length(sd$n) - 1L,
       p = pchisq(sd$chisq, length(sd$n) - 1L, lower.tail = FALSE))
}
lr <- list(
  lung_sex = lr_fixture(survdiff(Surv(time, event) ~ sex, data = lung_df)),
  veteran_celltype = lr_fixture(survdiff(Surv(time, event) ~ celltype,
                                         data = vet_df)),
  synthetic_group = lr_fixture(survdiff(Surv(exit, event) ~ group, data = syn))
)
write_fixture(lr, "logrank.json")

# --------------------------------------------------------------------- Cox --

# Grambsch-Therneau (1994) approximate PH test: the cox.zph algorithm of
# survival < 3.0, which lifelines' proportional_hazard_test also implements.
# Survival >= 3.0 cox.zph uses an exact score test instead (stored below as
# zph_score for information only).
zph_gt1994 <- function(fit, transform) {
  sresid <- resid(fit, "schoenfeld")
  if (is.null(dim(sresid))) sresid <- matrix(sresid, ncol = 1)
  ndead <- nrow(sresid)
  times <- fit$y[fit$y[, ncol(fit$y)] == 1, ncol(fit$y) - 1]
  times <- sort(times)  # schoenfeld residuals are in time order
  ttimes <- switch(transform,
    identity = times,
    log = log(times),
    rank = rank(times),
    km = {
      y <- fit$y
      sf <- survfit(y ~ 1)
      t1 <- sf$surv[sf$n.event > 0]
      t2 <- sf$n.event[sf$n.event > 0]
      1 - rep(c(1, t1), c(t2, 0))
    })
  xx <- ttimes - mean(ttimes)
  r2 <- sresid %*% fit$var * ndead
  r2 <- r2 + outer(rep(1, ndead), fit$coefficients)
  test <- xx %*% r2
  z <- c(test^2 / (diag(fit$var) * ndead * sum(xx^2)))
  gtest <- c(xx %*% sresid)
  gz <- c(gtest %*% fit$var %*% gtest) * ndead / sum(xx^2)
  list(variables = names(fit$coefficients), chisq = z,
       p = pchisq(z, 1, lower.tail = FALSE), global_chisq = gz,
       global_df = length(fit$coefficients),
       global_p = pchisq(gz, length(fit$coefficients), lower.tail = FALSE))
}

cox_fixture <- function(fit) {
  s <- summary(fit)
  zr <- cox.zph(fit, transform = "rank", terms = FALSE)
  list(
    variables = names(fit$coefficients), coef = unname(fit$coefficients),
    se = unname(sqrt(diag(fit$var))), hr = unname(exp(fit$coefficients)),
    hr_lower = unname(s$conf.int[, "lower .95"]),
    hr_upper = unname(s$conf.int[, "upper .95"]),
    p = unname(s$coefficients[, "Pr(>|z|)"]),
    loglik = fit$loglik, n = fit$n, events = fit$nevent,
    concordance = unname(fit$concordance["concordance"]),
    ties = fit$method,
    zph_gt1994_rank = zph_gt1994(fit, "rank"),
    zph_gt1994_km = zph_gt1994(fit, "km"),
    zph_gt1994_identity = zph_gt1994(fit, "identity"),
    zph_score_rank = list(chisq = unname(zr$table[, "chisq"]),
                          p = unname(zr$table[, "p"]),
                          rows = rownames(zr$table))
  )
}
# Tight convergence so coefficients are exact to well below the 1e-6 used
# in the Python tests (coxph's default eps = 1e-9 is on the log-likelihood).
ctl <- coxph.control(eps = 1e-13, iter.max = 100, toler.chol = 1e-15)
lung_cc <- na.omit(lung_df[, c("time", "event", "age", "sex", "ph_ecog")])
cx <- list(
  lung = cox_fixture(coxph(Surv(time, event) ~ age + sex + ph_ecog,
                           data = lung_cc, ties = "efron", control = ctl)),
  veteran = cox_fixture(coxph(Surv(time, event) ~ trt + karno + diagtime +
                                age + prior + smallcell + adeno + large,
                              data = vet_df, ties = "efron", control = ctl)),
  synthetic_delayed_entry = cox_fixture(coxph(Surv(entry, exit, event) ~ x1 + x2,
                                              data = syn, ties = "efron", control = ctl))
)
write_fixture(cx, "cox.json")

# ---------------------------------------------- exact Poisson CI for SMR --

# poisson.test(O, E) gives the Garwood CI of the rate O/E and R's two-sided
# exact p-value; the Python SMR must reproduce both.
smr_cases <- list(c(0, 2.5), c(1, 4.2), c(5, 5), c(7, 3.1), c(41, 49.3),
                  c(90, 61.7), c(12, 20.04))
smr <- lapply(smr_cases, function(oe) {
  pt <- poisson.test(oe[1], oe[2])
  list(observed = oe[1], expected = oe[2], smr = unname(pt$estimate),
       lower = pt$conf.int[1], upper = pt$conf.int[2], p = pt$p.value)
})
write_fixture(smr, "smr.json")

# ------------------------------------------------ Guyot reconstruction --

# Digitised points = the lung KM curve at its event times plus each risk
# table time (step value), as analytics/stats/guyot.py builds them.
source(file.path("bench", "r_reference", "guyot_2012.R"))
guyot_case <- function(fit, risk_times, tot_events) {
  ev <- fit$n.event > 0
  t_pts <- c(0, fit$time[ev])
  s_pts <- c(1, fit$surv[ev])
  risk_times <- risk_times[risk_times <= max(t_pts)]
  add <- setdiff(risk_times, t_pts)
  s_add <- sapply(add, function(t) s_pts[max(which(t_pts <= t))])
  o <- order(c(t_pts, add))
  t_s <- c(t_pts, add)[o]
  s <- c(s_pts, s_add)[o]
  lower <- sapply(risk_times, function(t) min(which(t_s >= t)))
  upper <- c(lower[-1] - 1, length(t_s))
  n_risk <- summary(fit, times = risk_times)$n.risk
  res <- guyot_ipd(t_s, s, risk_times, lower, upper, n_risk, tot_events)
  list(km_times = t_pts, km_survival = s_pts, risk_times = risk_times,
       n_risk = n_risk, total_events = tot_events, points_time = t_s,
       d = res$d, cen = res$cen, n_hat = res$n_hat)
}
lung_fit <- survfit(Surv(time, event) ~ 1, data = lung_df)
guyot <- list(
  lung_no_total = guyot_case(lung_fit, seq(0, 1000, by = 100), NA),
  lung_total = guyot_case(lung_fit, seq(0, 1000, by = 100), sum(lung_df$event))
)
write_fixture(guyot, "guyot.json")

# ------------------------------------------ issue 13: registry-like data --

# A registry-like cohort: two treatment routes with confounded assignment,
# times in whole days (ties), some delayed entry, and three outcomes
# (0 = censored, 1 = tracheostomy or permanent ventilation, 2 = death).
set.seed(20251113)
nr <- 400
age <- round(rnorm(nr, 60, 9))
male <- rbinom(nr, 1, 0.62)
bulbar <- rbinom(nr, 1, 0.3)
dfs <- round(rlnorm(nr, log(0.6), 0.45), 3)
svc <- round(pmin(rnorm(nr, 85, 12), 120))
log_pnfh <- round(rnorm(nr, log(2000), 0.6), 3)
route <- rbinom(nr, 1, plogis(-0.3 + 0.04 * (age - 60) + 0.6 * bulbar - 0.5 * (dfs - 0.6)))
lp <- 0.03 * (age - 60) + 0.5 * bulbar + 0.8 * (dfs - 0.6) - 0.02 * (svc - 85) +
  0.4 * (log_pnfh - log(2000)) - 0.2 * route
t_death <- rweibull(nr, shape = 1.5, scale = 900 * exp(-lp / 1.5))
t_vent <- rweibull(nr, shape = 1.3, scale = 2500 * exp(-lp / 1.3))
t_cens <- runif(nr, 150, 900)
time <- ceiling(pmin(t_death, t_vent, t_cens))
status <- ifelse(t_cens <= pmin(t_death, t_vent), 0L, ifelse(t_vent < t_death, 1L, 2L))
entry <- ifelse(runif(nr) < 0.25, round(runif(nr, 1, 60)), 0)
keep <- time > entry
reg <- data.frame(id = seq_len(nr), route, age, male, bulbar, dfs, svc, log_pnfh,
                  entry, time, status, death = as.integer(status == 2),
                  composite = as.integer(status > 0))[keep, ]
reg$id <- seq_len(nrow(reg))

# Stabilised IPTW for route, truncated at the 1st and 99th percentiles.
ps_fit <- glm(route ~ age + male + bulbar + dfs + svc + log_pnfh, family = binomial,
              data = reg, control = glm.control(epsilon = 1e-14, maxit = 100))
ps <- fitted(ps_fit)
p1 <- mean(reg$route)
w_raw <- ifelse(reg$route == 1, p1 / ps, (1 - p1) / (1 - ps))
bounds <- quantile(w_raw, c(0.01, 0.99), type = 7)
reg$w <- pmin(pmax(w_raw, bounds[1]), bounds[2])
write_csv(reg, "registry.csv")

smd <- function(x, a, w) {
  binary <- all(x %in% c(0, 1))
  m1 <- mean(x[a == 1]); m0 <- mean(x[a == 0])
  pooled <- if (binary) sqrt((m1 * (1 - m1) + m0 * (1 - m0)) / 2) else
    sqrt((var(x[a == 1]) + var(x[a == 0])) / 2)
  wm1 <- weighted.mean(x[a == 1], w[a == 1]); wm0 <- weighted.mean(x[a == 0], w[a == 0])
  c(before = (m1 - m0) / pooled, after = (wm1 - wm0) / pooled)
}
covs <- c("age", "male", "bulbar", "dfs", "svc", "log_pnfh")
smds <- sapply(covs, function(v) smd(reg[[v]], reg$route, reg$w))
propensity <- list(
  coef = unname(coef(ps_fit)), se = unname(sqrt(diag(vcov(ps_fit)))),
  terms = names(coef(ps_fit)), weights = reg$w, bounds = unname(bounds),
  covariates = covs, smd_before = unname(smds["before", ]), smd_after = unname(smds["after", ])
)

wkm_fixture <- function(fit) {
  list(time = fit$time, n_risk = fit$n.risk, n_event = fit$n.event,
       surv = fit$surv, std_err = fit$std.err, lower = fit$lower, upper = fit$upper,
       logse = fit$logse)
}
robust_cox <- function(fit) {
  list(variables = names(fit$coefficients), coef = unname(fit$coefficients),
       robust_se = unname(sqrt(diag(fit$var))), naive_se = unname(sqrt(diag(fit$naive.var))))
}
weighted <- list(
  propensity = propensity,
  km_route1 = wkm_fixture(survfit(Surv(time, death) ~ 1, data = subset(reg, route == 1),
                                  weights = w, robust = TRUE, conf.type = "log-log")),
  km_route0 = wkm_fixture(survfit(Surv(time, death) ~ 1, data = subset(reg, route == 0),
                                  weights = w, robust = TRUE, conf.type = "log-log")),
  km_entry = wkm_fixture(survfit(Surv(entry, time, death) ~ 1, data = reg, id = id,
                                 weights = w, robust = TRUE, conf.type = "log-log")),
  cox_route = robust_cox(coxph(Surv(time, death) ~ route, data = reg, weights = w,
                               robust = TRUE, ties = "efron", control = ctl)),
  cox_adjusted = robust_cox(coxph(Surv(time, death) ~ route + age + bulbar + dfs, data = reg,
                                  weights = w, robust = TRUE, ties = "efron", control = ctl)),
  cox_entry = robust_cox(coxph(Surv(entry, time, death) ~ route, data = reg, weights = w, id = id,
                               robust = TRUE, ties = "efron", control = ctl))
)
write_fixture(weighted, "weighted.json")

# RMST: print(survfit(...), rmean = tau) reports these two numbers.
rmst_case <- function(fit, tau) {
  tab <- survival:::survmean(fit, rmean = tau)$matrix
  list(tau = tau, rmean = unname(tab["rmean"]), se = unname(tab["se(rmean)"]),
       n = unname(tab["records"]), events = unname(tab["events"]))
}
rmst_fx <- list(
  registry_640 = rmst_case(survfit(Surv(time, death) ~ 1, data = reg), 640),
  registry_route1_640 = rmst_case(survfit(Surv(time, death) ~ 1, data = subset(reg, route == 1)), 640),
  registry_entry_640 = rmst_case(survfit(Surv(entry, time, death) ~ 1, data = reg), 640),
  lung_365 = rmst_case(survfit(Surv(time, event) ~ 1, data = lung_df), 365),
  lung_tau_beyond_follow_up = rmst_case(survfit(Surv(time, event) ~ 1,
                                                data = subset(lung_df, time <= 500)), 800),
  veteran_100 = rmst_case(survfit(Surv(time, event) ~ 1, data = vet_df), 100)
)
write_fixture(rmst_fx, "rmst.json")

# Aalen-Johansen: death competes with tracheostomy / permanent ventilation.
aj_fixture <- function(fit) {
  list(states = fit$states, time = fit$time, n_risk = fit$n.risk[, 1],
       pstate = fit$pstate, std_err = fit$std.err, lower = fit$lower, upper = fit$upper,
       conf_type = fit$conf.type)
}
reg$state <- factor(reg$status, 0:2, c("censored", "ventilation", "death"))
aj <- list(
  registry = aj_fixture(survfit(Surv(time, state) ~ 1, data = reg)),
  registry_entry = aj_fixture(survfit(Surv(entry, time, state) ~ 1, data = reg, id = id)),
  registry_weighted = aj_fixture(survfit(Surv(time, state) ~ 1, data = reg, weights = w))
)
write_fixture(aj, "aalen_johansen.json")

write_fixture(list(R = R.version.string,
                   survival = as.character(packageVersion("survival")),
                   jsonlite = as.character(packageVersion("jsonlite"))),
              "versions.json")
cat("fixtures written to", out_dir, "\n")
