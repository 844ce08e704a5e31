using PdRdma.Cli;

return await CommandRouter.RunAsync(args);
