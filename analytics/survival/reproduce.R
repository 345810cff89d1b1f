# Reproduces the primary estimate of this analysis run from the package's own files, with R's
# survival package (Therneau, https://CRAN.R-project.org/package=survival).
#
#   Rscript reproduce.R        (in the unzipped package folder)
#
# Primary estimand (docs/sap.md section 2): MIROCALS-eligible patients from their first dose
# (in_primary = 1) against the MIROCALS placebo arm, deaths to the stop day. Expected deaths are
# each patient's cumulative hazard of the arm at their exit (the curve's cumulative hazard joined
# linearly between its points: benchmark_curve.csv); the one-sample log-rank test is survdiff()
# with each patient's expected survival probability exp(-cumulative hazard) as offset (Finkelstein, Muzikansky & Schoenfeld, J Natl Cancer Inst 2003).
# The SMR's interval is the exact Poisson (Garwood) interval divided by the expected count.
# Writes r_estimates.csv (name, value) and prints it.

suppressPackageStartupMessages(library(survival))

params <- read.csv("parameters.csv", stringsAsFactors = FALSE)
param <- function(name) as.numeric(params$value[params$name == name])
stop_days <- param("stop_days")
alpha <- param("alpha")

dataset <- read.csv("analysis_dataset.csv")
curve <- read.csv("benchmark_curve.csv")
primary <- dataset[dataset$in_primary == 1, ]

time <- pmin(primary$os_days, stop_days)
status <- ifelse(primary$os_days > stop_days, 0, primary$os_event)
expected_each <- approx(curve$day, curve$cumulative_hazard, xout = time, rule = 2)$y

test <- survdiff(Surv(time, status) ~ offset(exp(-expected_each)))
observed <- sum(test$obs)
expected <- sum(test$exp)
lower <- if (observed == 0) 0 else qchisq(alpha / 2, 2 * observed) / 2
upper <- qchisq(1 - alpha / 2, 2 * observed + 2) / 2

km <- survfit(Surv(os_days_h, os_event_h) ~ 1, data = primary, conf.type = "log-log", conf.int = 1 - alpha)
at_365 <- summary(km, times = 365)

estimates <- data.frame(
  name = c("n", "observed", "expected", "smr", "smr_ci_lower", "smr_ci_upper", "p", "p_exact",
           "km_365", "km_365_ci_lower", "km_365_ci_upper"),
  value = c(nrow(primary), observed, expected, observed / expected, lower / expected, upper / expected,
            pchisq(test$chisq, df = 1, lower.tail = FALSE), poisson.test(observed, expected)$p.value,
            at_365$surv, at_365$lower, at_365$upper)
)
write.csv(estimates, "r_estimates.csv", row.names = FALSE)
print(format(estimates, digits = 10))
