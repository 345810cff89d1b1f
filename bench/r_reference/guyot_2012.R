# Guyot, Ades, Ouwens & Welton (2012) IPD reconstruction, transcribed from
# the authors' published R code (BMC Med Res Methodol 12:9, additional
# file), wrapped as a function. Used only to make reference fixtures for
# analytics/stats/guyot.py.
#
# t.S, S: digitised curve (first point (0, 1)); t.risk, n.risk: risk table;
# lower/upper: first/last digitised index in each risk interval (1-based).
guyot_ipd <- function(t.S, S, t.risk, lower, upper, n.risk, tot.events = NA) {
  n.int <- length(n.risk)
  n.t <- upper[n.int]
  n.censor <- rep(0, (n.int - 1))
  n.hat <- rep(n.risk[1] + 1, n.t)
  cen <- rep(0, n.t)
  d <- rep(0, n.t)
  KM.hat <- rep(1, n.t)
  last.i <- rep(1, n.int)
  sumdL <- 0
  if (n.int > 1) {
    for (i in 1:(n.int - 1)) {
      n.censor[i] <- round(n.risk[i] * S[lower[i + 1]] / S[lower[i]] - n.risk[i + 1])
      while ((n.hat[lower[i + 1]] > n.risk[i + 1]) ||
             ((n.hat[lower[i + 1]] < n.risk[i + 1]) && (n.censor[i] > 0))) {
        if (n.censor[i] <= 0) {
          cen[lower[i]:upper[i]] <- 0
          n.censor[i] <- 0
        }
        if (n.censor[i] > 0) {
          cen.t <- rep(0, n.censor[i])
          for (j in 1:n.censor[i]) {
            cen.t[j] <- t.S[lower[i]] +
              j * (t.S[lower[(i + 1)]] - t.S[lower[i]]) / (n.censor[i] + 1)
          }
          cen[lower[i]:upper[i]] <- hist(cen.t, breaks = t.S[lower[i]:lower[(i + 1)]],
                                         plot = FALSE)$counts
        }
        n.hat[lower[i]] <- n.risk[i]
        last <- last.i[i]
        for (k in lower[i]:upper[i]) {
          if (i == 1 & k == lower[i]) {
            d[k] <- 0
            KM.hat[k] <- 1
          } else {
            d[k] <- round(n.hat[k] * (1 - (S[k] / KM.hat[last])))
            KM.hat[k] <- KM.hat[last] * (1 - (d[k] / n.hat[k]))
          }
          n.hat[k + 1] <- n.hat[k] - d[k] - cen[k]
          if (d[k] != 0) last <- k
        }
        n.censor[i] <- n.censor[i] + (n.hat[lower[i + 1]] - n.risk[i + 1])
      }
      if (n.hat[lower[i + 1]] < n.risk[i + 1]) n.risk[i + 1] <- n.hat[lower[i + 1]]
      last.i[(i + 1)] <- last
    }
  }
  if (n.int > 1) {
    n.censor[n.int] <- min(round(sum(n.censor[1:(n.int - 1)]) *
                                   (t.S[upper[n.int]] - t.S[lower[n.int]]) /
                                   (t.S[upper[(n.int - 1)]] - t.S[lower[1]])), n.risk[n.int])
  }
  if (n.int == 1) n.censor[n.int] <- 0
  if (n.censor[n.int] <= 0) {
    cen[lower[n.int]:(upper[n.int] - 1)] <- 0
    n.censor[n.int] <- 0
  }
  if (n.censor[n.int] > 0) {
    cen.t <- rep(0, n.censor[n.int])
    for (j in 1:n.censor[n.int]) {
      cen.t[j] <- t.S[lower[n.int]] +
        j * (t.S[upper[n.int]] - t.S[lower[n.int]]) / (n.censor[n.int] + 1)
    }
    cen[lower[n.int]:(upper[n.int] - 1)] <- hist(cen.t, breaks = t.S[lower[n.int]:upper[n.int]],
                                                 plot = FALSE)$counts
  }
  n.hat[lower[n.int]] <- n.risk[n.int]
  last <- last.i[n.int]
  for (k in lower[n.int]:upper[n.int]) {
    if (KM.hat[last] != 0) {
      d[k] <- round(n.hat[k] * (1 - (S[k] / KM.hat[last])))
    } else {
      d[k] <- 0
    }
    KM.hat[k] <- KM.hat[last] * (1 - (d[k] / n.hat[k]))
    n.hat[k + 1] <- n.hat[k] - d[k] - cen[k]
    if (n.hat[k + 1] < 0) {
      n.hat[k + 1] <- 0
      cen[k] <- n.hat[k] - d[k]
    }
    if (d[k] != 0) last <- k
  }
  if (!is.na(tot.events)) {
    if (n.int > 1) {
      sumdL <- sum(d[1:upper[(n.int - 1)]])
      if (sumdL >= tot.events) {
        d[lower[n.int]:upper[n.int]] <- rep(0, (upper[n.int] - lower[n.int] + 1))
        cen[lower[n.int]:(upper[n.int] - 1)] <- rep(0, (upper[n.int] - lower[n.int]))
        n.hat[(lower[n.int] + 1):(upper[n.int] + 1)] <- rep(n.risk[n.int], (upper[n.int] + 1 - lower[n.int]))
      }
    }
    if ((sumdL < tot.events) || (n.int == 1)) {
      sumd <- sum(d[1:upper[n.int]])
      while ((sumd > tot.events) || ((sumd < tot.events) && (n.censor[n.int] > 0))) {
        n.censor[n.int] <- n.censor[n.int] + (sumd - tot.events)
        if (n.censor[n.int] <= 0) {
          cen[lower[n.int]:(upper[n.int] - 1)] <- 0
          n.censor[n.int] <- 0
        }
        if (n.censor[n.int] > 0) {
          cen.t <- rep(0, n.censor[n.int])
          for (j in 1:n.censor[n.int]) {
            cen.t[j] <- t.S[lower[n.int]] +
              j * (t.S[upper[n.int]] - t.S[lower[n.int]]) / (n.censor[n.int] + 1)
          }
          cen[lower[n.int]:(upper[n.int] - 1)] <- hist(cen.t, breaks = t.S[lower[n.int]:upper[n.int]],
                                                       plot = FALSE)$counts
        }
        n.hat[lower[n.int]] <- n.risk[n.int]
        last <- last.i[n.int]
        for (k in lower[n.int]:upper[n.int]) {
          d[k] <- round(n.hat[k] * (1 - (S[k] / KM.hat[last])))
          KM.hat[k] <- KM.hat[last] * (1 - (d[k] / n.hat[k]))
          if (k != upper[n.int]) {
            n.hat[k + 1] <- n.hat[k] - d[k] - cen[k]
            if (n.hat[k + 1] < 0) {
              n.hat[k + 1] <- 0
              cen[k] <- n.hat[k] - d[k]
            }
          }
          if (d[k] != 0) last <- k
        }
        sumd <- sum(d[1:upper[n.int]])
      }
    }
  }
  list(d = d, cen = cen, n_hat = n.hat[1:n.t])
}
