/*
 * The managers' dashboard (/manager): draws the charts from the JSON API with Chart.js.
 *
 * The page already shows the headline numbers as text; this adds, for every chart, the
 * chart itself and a table of the numbers it shows (value, 95% interval, n). No inline
 * script anywhere: the page's settings come from data attributes of #dashboard.
 * Trend intervals are drawn as a band: two extra datasets, ci_low and ci_high, the second
 * filled down to the first (fill: '-1'). A point the API marks too_few (an NPS or CSAT of
 * fewer answers than the shop's minimum) reads "too few answers (n = 7)" and is not drawn.
 * Experiments (from /api/experiments): a floating bar per variant from its interval's low to
 * its high end with the estimate as a point, and the difference against the control day by
 * day with its always-valid interval as a band and the fixed-horizon one dashed.
 */
(function () {
  'use strict';

  var root = document.getElementById('dashboard');
  if (!root) {
    return;
  }

  var API = root.getAttribute('data-api') || '/api';
  var PERIOD = root.getAttribute('data-period') || 'last 30 days';
  var BUCKET = root.getAttribute('data-bucket') || 'month';
  var MONTHS = root.getAttribute('data-months') || '12';

  var LINE = '#1f5f99';
  var BAND = 'rgba(31, 95, 153, 0.18)';
  var DETRACTOR = '#c0392b';
  var PASSIVE = '#e0a526';
  var PROMOTER = '#2e8b57';
  var NOT_SATISFIED = '#9aa5b1';
  var MONTHS_SHORT = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun',
    'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

  var reducedMotion = window.matchMedia &&
    window.matchMedia('(prefers-reduced-motion: reduce)').matches;

  // --- numbers as text ----------------------------------------------------------------

  function minus(text) {
    return text.replace(/^-/, '\u2212');
  }

  function format(unit, value) {
    if (value === null || value === undefined) {
      return '\u2013';
    }
    if (unit === 'percent') {
      return Math.round(value) + '%';
    }
    if (unit === 'seconds') {
      if (Math.abs(value) >= 90) {
        return (value / 60).toFixed(1) + ' min';
      }
      return value.toFixed(Math.abs(value) < 1 ? 2 : 1) + ' s';
    }
    return minus(String(Math.round(value)));
  }

  function tooFew(point) {
    return 'too few answers (n = ' + point.n.toLocaleString('en') + ')';
  }

  function interval(unit, point) {
    if (point.too_few) {
      return '\u2013';
    }
    if (point.ci_low === null || point.ci_high === null) {
      return 'no interval';
    }
    return format(unit, point.ci_low) + ' to ' + format(unit, point.ci_high);
  }

  function describe(unit, point) {
    if (point.value === null) {
      return 'no data (n = ' + point.n + ')';
    }
    if (point.too_few) {
      return tooFew(point);
    }
    return format(unit, point.value) + ' (95% CI ' + interval(unit, point) +
      ', n = ' + point.n.toLocaleString('en') + ')';
  }

  function bucketLabel(bucket, iso) {
    var parts = iso.split('-');
    var month = MONTHS_SHORT[Number(parts[1]) - 1];
    if (bucket === 'week') {
      return 'w/c ' + Number(parts[2]) + ' ' + month + ' ' + parts[0];
    }
    return month + ' ' + parts[0];
  }

  // --- the DOM --------------------------------------------------------------------------

  function element(tag, text, className) {
    var node = document.createElement(tag);
    if (text !== undefined && text !== null) {
      node.textContent = text;
    }
    if (className) {
      node.className = className;
    }
    return node;
  }

  function table(caption, headers, rows) {
    var node = element('table', null, 'numbers');
    node.appendChild(element('caption', caption));
    var head = node.appendChild(element('thead')).appendChild(element('tr'));
    headers.forEach(function (text) {
      var cell = head.appendChild(element('th', text));
      cell.scope = 'col';
    });
    var body = node.appendChild(element('tbody'));
    rows.forEach(function (cells) {
      var row = body.appendChild(element('tr'));
      cells.forEach(function (text, i) {
        if (i === 0) {
          var header = row.appendChild(element('th', text));
          header.scope = 'row';
        } else {
          row.appendChild(element('td', text));
        }
      });
    });
    return node;
  }

  function status(figure, text) {
    var node = figure.querySelector('.chart-status');
    if (node) {
      node.textContent = text;
      node.hidden = !text;
    }
  }

  function showNumbers(figure, node) {
    var holder = figure.querySelector('.chart-table');
    if (holder) {
      holder.replaceChildren(node);
    }
  }

  // --- the API --------------------------------------------------------------------------

  function query(extra) {
    var params = new URLSearchParams({ period: PERIOD });
    Object.keys(extra || {}).forEach(function (key) {
      params.set(key, extra[key]);
    });
    return params.toString();
  }

  function getJson(path, extra) {
    return fetch(API + path + '?' + query(extra), {
      credentials: 'same-origin',
      headers: { Accept: 'application/json' },
    }).then(function (response) {
      if (response.status === 401) {
        throw new Error('Your session has ended: sign in again to see the charts.');
      }
      return response.json().then(function (body) {
        if (!response.ok) {
          throw new Error(body && body.message ? body.message : 'HTTP ' + response.status);
        }
        return body;
      });
    });
  }

  function chartsAvailable(figure) {
    if (typeof window.Chart === 'undefined') {
      status(figure, 'The chart library did not load; the numbers are in the table.');
      return false;
    }
    return true;
  }

  function baseOptions(yTitle) {
    return {
      responsive: true,
      maintainAspectRatio: false,
      animation: reducedMotion ? false : { duration: 300 },
      interaction: { mode: 'index', intersect: false },
      scales: {
        y: { title: { display: true, text: yTitle } },
      },
    };
  }

  // --- trends with interval bands -------------------------------------------------------

  function drawTrend(figure) {
    var metric = figure.getAttribute('data-trend');
    var unit = figure.getAttribute('data-unit');
    var title = figure.getAttribute('data-title');
    var yTitle = figure.getAttribute('data-axis');
    getJson('/metrics/' + encodeURIComponent(metric) + '/trend', {
      bucket: BUCKET,
      months: MONTHS,
    }).then(function (data) {
      var points = data.points;
      var labels = points.map(function (p) { return bucketLabel(data.bucket, p.bucket); });
      showNumbers(figure, table(
        title + ' per ' + data.bucket + ', ' + data.period.label + ' and before',
        [data.bucket === 'week' ? 'Week' : 'Month', title, '95% CI', 'n'],
        points.map(function (p, i) {
          var shown = p.too_few ? 'too few answers' : format(unit, p.value);
          return [labels[i], shown, interval(unit, p), p.n.toLocaleString('en')];
        })
      ));
      var takeaway = figure.querySelector('.chart-takeaway');
      if (takeaway && data.takeaway) {
        takeaway.textContent = data.takeaway;
      }
      if (!points.some(function (p) { return p.value !== null; })) {
        status(figure, 'No data in these ' + data.bucket + 's.');
        return;
      }
      if (!points.some(function (p) { return p.value !== null && !p.too_few; })) {
        status(figure, 'Too few answers in every ' + data.bucket + ' to draw.');
        return;
      }
      if (!chartsAvailable(figure)) {
        return;
      }
      var pick = function (key) {
        return points.map(function (p) { return p.too_few ? null : p[key]; });
      };
      var options = baseOptions(yTitle);
      options.plugins = {
        legend: {
          labels: {
            filter: function (item) { return item.datasetIndex !== 1; },
          },
        },
        tooltip: {
          filter: function (item) { return item.datasetIndex === 0; },
          callbacks: {
            label: function (context) {
              return title + ': ' + describe(unit, points[context.dataIndex]);
            },
          },
        },
      };
      new window.Chart(figure.querySelector('canvas'), {
        type: 'line',
        data: {
          labels: labels,
          datasets: [
            {
              label: title,
              data: pick('value'),
              borderColor: LINE,
              backgroundColor: LINE,
              pointRadius: 3,
              spanGaps: false,
              fill: false,
            },
            {
              label: 'ci_low',
              data: pick('ci_low'),
              borderWidth: 0,
              pointRadius: 0,
              pointHitRadius: 0,
              spanGaps: false,
              fill: false,
            },
            {
              label: '95% interval',
              data: pick('ci_high'),
              borderWidth: 0,
              pointRadius: 0,
              pointHitRadius: 0,
              backgroundColor: BAND,
              borderColor: BAND,
              spanGaps: false,
              fill: '-1',
            },
          ],
        },
        options: options,
      });
    }).catch(function (error) {
      status(figure, 'Could not load the chart: ' + error.message);
    });
  }

  // --- score distributions --------------------------------------------------------------

  function scoreColour(question, score) {
    if (question === 'nps') {
      return score <= 6 ? DETRACTOR : (score <= 8 ? PASSIVE : PROMOTER);
    }
    return score >= 4 ? PROMOTER : NOT_SATISFIED;
  }

  function drawDistribution(figure) {
    var question = figure.getAttribute('data-distribution');
    var title = figure.getAttribute('data-title');
    var unit = question === 'nps' ? 'points' : 'percent';
    getJson('/metrics/' + encodeURIComponent(question) + '/distribution').then(function (data) {
      var total = data.n;
      var share = function (count) {
        return total ? Math.round(100 * count / total) + '%' : '\u2013';
      };
      showNumbers(figure, table(
        title + ' answers by score, ' + data.period.label + ': ' + describe(unit, data.result),
        ['Score', 'Answers', 'Share'],
        data.scores.map(function (s) {
          return [String(s.score), s.count.toLocaleString('en'), share(s.count)];
        })
      ));
      if (!total) {
        status(figure, 'No answers in this period.');
        return;
      }
      if (!chartsAvailable(figure)) {
        return;
      }
      var options = baseOptions('answers');
      options.scales.x = { title: { display: true, text: 'score' } };
      options.plugins = {
        legend: { display: false },
        tooltip: {
          callbacks: {
            label: function (context) {
              var count = data.scores[context.dataIndex].count;
              return count.toLocaleString('en') + ' answers (' + share(count) + ')';
            },
          },
        },
      };
      new window.Chart(figure.querySelector('canvas'), {
        type: 'bar',
        data: {
          labels: data.scores.map(function (s) { return String(s.score); }),
          datasets: [{
            label: title + ' answers',
            data: data.scores.map(function (s) { return s.count; }),
            backgroundColor: data.scores.map(function (s) {
              return scoreColour(question, s.score);
            }),
          }],
        },
        options: options,
      });
    }).catch(function (error) {
      status(figure, 'Could not load the chart: ' + error.message);
    });
  }

  // --- experiments: per-variant intervals, and the always-valid interval over time ------

  var CONTROL = '#9aa5b1';
  var FIXED = 'rgba(31, 95, 153, 0.55)';

  function experimentUnit(unit) {
    return unit === 'seconds' ? 'seconds' : (unit === 'percent' ? 'percent' : 'points');
  }

  function oneDecimal(unit, value) {
    if (value === null || value === undefined) {
      return '\u2013';
    }
    return minus(value.toFixed(1)) + (unit === 'percent' ? '%' : (unit === 'seconds' ? ' s' : ''));
  }

  function change(unit, value) {
    if (value === null || value === undefined) {
      return '\u2013';
    }
    var text = (value >= 0 ? '+' : '') + value.toFixed(1);
    return minus(text) + (unit === 'seconds' ? ' s' : ' points');
  }

  function drawEstimates(figure, experiment) {
    var primary = experiment.primary;
    var unit = experimentUnit(primary.unit);
    var names = experiment.variants.map(function (v) { return v.name; });
    var shown = names.map(function (name) {
      var r = primary.variants[name];
      return r && r.value !== null && !r.too_few && r.ci_low !== null && r.ci_high !== null;
    });
    if (!shown.some(Boolean)) {
      status(figure, 'No data to draw yet.');
      return;
    }
    if (!chartsAvailable(figure)) {
      return;
    }
    var options = baseOptions(primary.label + (unit === 'seconds' ? ' (s)' : ''));
    options.plugins = {
      legend: { display: true },
      tooltip: {
        callbacks: {
          label: function (context) {
            var r = primary.variants[names[context.dataIndex]];
            return names[context.dataIndex] + ': ' + oneDecimal(unit, r.value) + ' (95% CI ' +
              oneDecimal(unit, r.ci_low) + ' to ' + oneDecimal(unit, r.ci_high) + ', n = ' +
              r.n.toLocaleString('en') + ')';
          },
        },
      },
    };
    options.interaction = { mode: 'nearest', intersect: false };
    new window.Chart(figure.querySelector('canvas'), {
      type: 'bar',
      data: {
        labels: names,
        datasets: [
          {
            type: 'bar',
            label: '95% interval',
            // A floating bar per variant: from the interval's low end to its high end.
            data: names.map(function (name, i) {
              var r = primary.variants[name];
              return shown[i] ? [r.ci_low, r.ci_high] : null;
            }),
            backgroundColor: names.map(function (name) {
              return name === experiment.control ? CONTROL : BAND;
            }),
            borderColor: LINE,
            borderWidth: 1,
            barPercentage: 0.35,
          },
          {
            type: 'line',
            label: 'estimate',
            data: names.map(function (name, i) {
              return shown[i] ? primary.variants[name].value : null;
            }),
            showLine: false,
            pointRadius: 5,
            borderColor: LINE,
            backgroundColor: LINE,
          },
        ],
      },
      options: options,
    });
  }

  function drawHistory(figure, experiment) {
    var unit = experimentUnit(experiment.primary.unit);
    var series = experiment.over_time.filter(function (s) { return s.points.length; });
    if (!series.length) {
      status(figure, 'Too little data on any day yet.');
      return;
    }
    // The first variant against the control (most experiments have two variants).
    var first = series[0];
    var points = first.points;
    var labels = points.map(function (p) { return p.day; });
    showNumbers(figure, table(
      experiment.primary.label + ', ' + first.variant + ' minus ' + experiment.control +
        ', at the end of each day',
      ['Day', 'Difference', 'Always-valid 95% CI', 'Fixed-horizon 95% CI', 'n'],
      points.map(function (p) {
        return [p.day, change(unit, p.difference),
          change(unit, p.always_valid_ci[0]) + ' to ' + change(unit, p.always_valid_ci[1]),
          change(unit, p.ci[0]) + ' to ' + change(unit, p.ci[1]),
          p.n.toLocaleString('en')];
      })
    ));
    if (!chartsAvailable(figure)) {
      return;
    }
    var pick = function (f) { return points.map(f); };
    var options = baseOptions('difference (' + (unit === 'seconds' ? 's' : 'points') + ')');
    options.plugins = {
      legend: {
        labels: { filter: function (item) { return item.datasetIndex !== 1 && item.datasetIndex !== 4; } },
      },
      tooltip: {
        filter: function (item) { return item.datasetIndex === 0; },
        callbacks: {
          label: function (context) {
            var p = points[context.dataIndex];
            return first.variant + ': ' + change(unit, p.difference) + ' (always-valid ' +
              change(unit, p.always_valid_ci[0]) + ' to ' + change(unit, p.always_valid_ci[1]) +
              ', n = ' + p.n.toLocaleString('en') + ')';
          },
        },
      },
    };
    new window.Chart(figure.querySelector('canvas'), {
      type: 'line',
      data: {
        labels: labels,
        datasets: [
          {
            label: first.variant + ' minus ' + experiment.control,
            data: pick(function (p) { return p.difference; }),
            borderColor: LINE,
            backgroundColor: LINE,
            pointRadius: 2,
            fill: false,
          },
          {
            label: 'always_valid_low',
            data: pick(function (p) { return p.always_valid_ci[0]; }),
            borderWidth: 0,
            pointRadius: 0,
            pointHitRadius: 0,
            fill: false,
          },
          {
            label: 'always-valid 95% interval',
            data: pick(function (p) { return p.always_valid_ci[1]; }),
            borderWidth: 0,
            pointRadius: 0,
            pointHitRadius: 0,
            backgroundColor: BAND,
            borderColor: BAND,
            fill: '-1',
          },
          {
            label: 'fixed-horizon 95% interval',
            data: pick(function (p) { return p.ci[0]; }),
            borderColor: FIXED,
            borderDash: [4, 4],
            borderWidth: 1,
            pointRadius: 0,
            pointHitRadius: 0,
            fill: false,
          },
          {
            label: 'fixed_high',
            data: pick(function (p) { return p.ci[1]; }),
            borderColor: FIXED,
            borderDash: [4, 4],
            borderWidth: 1,
            pointRadius: 0,
            pointHitRadius: 0,
            fill: false,
          },
        ],
      },
      options: options,
    });
  }

  function drawExperiments() {
    var figures = root.querySelectorAll(
      'figure[data-experiment-estimates], figure[data-experiment-history]'
    );
    if (!figures.length) {
      return;
    }
    fetch(API + '/experiments', {
      credentials: 'same-origin',
      headers: { Accept: 'application/json' },
    }).then(function (response) {
      if (response.status === 401) {
        throw new Error('Your session has ended: sign in again to see the charts.');
      }
      if (!response.ok) {
        throw new Error('HTTP ' + response.status);
      }
      return response.json();
    }).then(function (data) {
      var byName = {};
      data.experiments.forEach(function (e) { byName[e.name] = e; });
      figures.forEach(function (figure) {
        var name = figure.getAttribute('data-experiment-estimates') ||
          figure.getAttribute('data-experiment-history');
        var experiment = byName[name];
        if (!experiment) {
          status(figure, 'This experiment is no longer declared.');
        } else if (figure.hasAttribute('data-experiment-estimates')) {
          drawEstimates(figure, experiment);
        } else {
          drawHistory(figure, experiment);
        }
      });
    }).catch(function (error) {
      figures.forEach(function (figure) {
        status(figure, 'Could not load the chart: ' + error.message);
      });
    });
  }

  root.querySelectorAll('figure[data-trend]').forEach(drawTrend);
  root.querySelectorAll('figure[data-distribution]').forEach(drawDistribution);
  drawExperiments();
})();
