/*
 * The managers' dashboard (/manager): draws the charts from the JSON API with Chart.js.
 *
 * The page already shows the headline numbers as text; this adds, for every chart, the
 * chart itself and a table of the numbers it shows (value, 95% interval, n). No inline
 * script anywhere: the page's settings come from data attributes of #dashboard.
 * Trend intervals are drawn as a band: two extra datasets, ci_low and ci_high, the second
 * filled down to the first (fill: '-1'). A point the API marks too_few (an NPS or CSAT of
 * fewer answers than the shop's minimum) reads "too few answers (n = 7)" and is not drawn.
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

  root.querySelectorAll('figure[data-trend]').forEach(drawTrend);
  root.querySelectorAll('figure[data-distribution]').forEach(drawDistribution);
})();
