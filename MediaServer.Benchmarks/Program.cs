using MediaServer.Benchmarks;

return Verbs.Run(args);
