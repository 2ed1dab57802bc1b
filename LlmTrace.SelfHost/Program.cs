using LlmTrace.SelfHost;

var app = SelfHostApp.Build(args);
app.Run();
