# rerun with: gnuplot strategies.gp
set terminal pngcairo size 860,560 enhanced font 'DejaVu Sans,10'
set output 'strategies.png'
set title 'Best width-2048 validation loss against tuning compute (median over sweep seeds, bars: their range)'
set logscale x
set grid lc rgb '#dddddd'
set xlabel 'tuning compute (multiply-add FLOPs, target training included)'
set ylabel 'validation loss of the width-2048 model'
set key top right
set autoscale xfix
set yrange [0.3528:0.4194]
set offsets graph 0.05, graph 0.05, 0, 0
plot 'direct.dat' using 1:3 with linespoints lw 2 pt 7 lc rgb 'black' title 'random search at width 2048', \
     'strategy-random.dat' using 1:2:3:4 with yerrorlines lw 2 pt 5 title 'random at width 128, transfer', \
     'strategy-random-asha.dat' using 1:2:3:4 with yerrorlines lw 2 pt 6 title 'random+asha at width 128, transfer', \
     'strategy-tpe.dat' using 1:2:3:4 with yerrorlines lw 2 pt 7 title 'tpe at width 128, transfer', \
     'strategy-tpe-asha.dat' using 1:2:3:4 with yerrorlines lw 2 pt 8 title 'tpe+asha at width 128, transfer'
