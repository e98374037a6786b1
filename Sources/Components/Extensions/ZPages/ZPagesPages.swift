import Foundation
import Pipeline

/// The pages' HTML. Text is escaped where it comes from the config.
enum ZPagesPages {
    static func html(_ body: String) -> HTTPResponse {
        HTTPResponse(status: .ok, headers: ["Content-Type": "text/html; charset=utf-8"], body: Array(body.utf8))
    }

    static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }

    private static func page(_ title: String, _ content: String) -> String {
        """
        <!DOCTYPE html><html><head><meta charset="utf-8"><title>\(title)</title><style>\(style)</style></head>
        <body><h1>\(title)</h1><p><a href="/debug/servicez">servicez</a> · <a href="/debug/pipelinez">pipelinez</a> · <a href="/debug/status">status</a></p>
        \(content)</body></html>
        """
    }

    static func servicez(started: Date, uptime: Double, pipelines: [ComponentHost.PipelineSummary]) -> String {
        page("Service", """
        <h2>Build Info</h2><table><tr><td>Command</td><td>otelcol-swift</td></tr><tr><td>Description</td><td>OpenTelemetry Collector in Swift</td></tr></table>
        <h2>Runtime Info</h2><table><tr><td>StartTimestamp</td><td>\(started.ISO8601Format())</td></tr>
        <tr><td>Uptime</td><td>\(Int(uptime))s</td></tr></table>
        <h2>Pipelines</h2><p>\(pipelines.count) pipeline(s): \(pipelines.map { escape($0.id) }.joined(separator: ", ")) (<a href="/debug/pipelinez">details</a>)</p>
        """)
    }

    static func pipelinez(_ pipelines: [ComponentHost.PipelineSummary]) -> String {
        let rows = pipelines.map { p in
            "<tr><td>\(escape(p.id))</td><td>\(escape(String(p.id.prefix { $0 != "/" })))</td><td>\(escape(p.receivers.joined(separator: ", ")))</td><td>\(escape(p.processors.joined(separator: " → ")))</td><td>\(escape(p.exporters.joined(separator: ", ")))</td></tr>"
        }.joined()
        return page("Pipelines", "<table><tr><th>FullName</th><th>InputType</th><th>Receivers</th><th>Processors</th><th>Exporters</th></tr>\(rows)</table>")
    }

    static let style = """
    body{font-family:sans-serif;margin:1.5em;color:#222}table{border-collapse:collapse;margin-bottom:1em}
    td,th{border:1px solid #ccc;padding:.25em .6em;text-align:right}td:first-child,th:first-child{text-align:left}
    svg{background:#f7f7f7;border:1px solid #ddd}polyline{fill:none;stroke-width:1.5}.err{color:#a00;font-family:monospace}
    """

    /// The live page: tables and plots redrawn every two seconds from /debug/status.json.
    static let status = page("Status", """
    <p id="uptime">loading…</p>
    <h2>Components (items per second)</h2><table id="components"></table>
    <h2>Exporter queues</h2><table id="queues"></table>
    <h2>Kafka partitions</h2><table id="partitions"></table><div id="plots"></div>
    <h2>Recent errors</h2><div id="errors"></div>
    <script>
    function cell(v){return '<td>'+v+'</td>'}
    function num(v){return v>=100?Math.round(v):Math.round(v*10)/10}
    function esc(t){return String(t).replace(/[&<>"]/g,c=>({'&':'&amp;','<':'&lt;','>':'&gt;','"':'&quot;'}[c]))}
    function plot(values,color,label){
      var max=Math.max(1,...values),w=300,h=60;
      var pts=values.map((v,i)=>(values.length<2?0:i*w/(values.length-1)).toFixed(1)+','+(h-v*h/max).toFixed(1)).join(' ');
      return '<figure style="display:inline-block;margin:0 1em 1em 0"><svg width="'+w+'" height="'+h+'"><polyline stroke="'+color+'" points="'+pts+'"/></svg><figcaption>'+esc(label)+' (max '+num(max)+')</figcaption></figure>';
    }
    async function refresh(){
      try{
        var s=await (await fetch('/debug/status.json',{cache:'no-store'})).json();
        document.getElementById('uptime').textContent='up '+Math.round(s.uptimeSeconds)+' s';
        document.getElementById('components').innerHTML='<tr><th>component</th><th>accepted</th><th>refused</th><th>sent</th><th>failed</th><th>dropped</th></tr>'+
          s.components.map(c=>'<tr>'+cell(esc(c.kind+' '+c.id))+cell(num(c.accepted))+cell(num(c.refused))+cell(num(c.sent))+cell(num(c.failed))+cell(num(c.dropped))+'</tr>').join('');
        document.getElementById('queues').innerHTML='<tr><th>exporter</th><th>signal</th><th>size</th><th>capacity</th></tr>'+
          s.queues.map(q=>'<tr>'+cell(esc(q.exporter))+cell(esc(q.signal))+cell(q.size)+cell(q.capacity)+'</tr>').join('');
        document.getElementById('partitions').innerHTML='<tr><th>topic/partition</th><th>lag (records)</th><th>lag (seconds)</th><th>retention headroom (seconds)</th></tr>'+
          s.partitions.map(p=>'<tr class="partition">'+cell(esc(p.topic+'/'+p.partition))+cell(p.lagRecords)+cell(num(p.lagSeconds))+cell(p.headroomSeconds==null?'no limit':num(p.headroomSeconds))+'</tr>').join('');
        document.getElementById('plots').innerHTML=s.partitions.map(p=>plot(p.records,'#36c',p.topic+'/'+p.partition+' lag, records')+plot(p.seconds,'#c63',p.topic+'/'+p.partition+' lag, seconds')).join('');
        document.getElementById('errors').innerHTML=s.errors.length?s.errors.map(e=>'<div class="err">'+esc(e)+'</div>').join(''):'none';
      }catch(e){document.getElementById('uptime').textContent='cannot reach the collector: '+e}
    }
    refresh();setInterval(refresh,2000);
    </script>
    """)
}
